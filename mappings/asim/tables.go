package asim

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Product and vendor written in EventProduct and EventVendor.
const (
	Product = "Castellan"
	Vendor  = "Castellan"
)

// Table names in the Log Analytics workspace.
const (
	EventsTable    = "CastellanEvents_CL"
	AlertsTable    = "CastellanAlerts_CL"
	IncidentsTable = "CastellanIncidents_CL"
	FindingsTable  = "CastellanFindings_CL"
	ActionsTable   = "CastellanActions_CL"
)

// Stream names declared in the Data Collection Rule (the {streamName} of the
// Logs Ingestion URL).
const (
	EventsStream    = "Custom-CastellanEvents"
	AlertsStream    = "Custom-CastellanAlerts"
	IncidentsStream = "Custom-CastellanIncidents"
	FindingsStream  = "Custom-CastellanFindings"
	ActionsStream   = "Custom-CastellanActions"
)

// Column is one column of a table or stream declaration. Type is a Log
// Analytics type: string, int, long, real, boolean, datetime or dynamic.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Table is one custom table, the stream that feeds it and the record kind
// it holds.
type Table struct {
	Name    string
	Stream  string
	Kind    string // a schema.Record* kind
	Columns []Column
}

// Tables lists the five tables with their columns, derived from the row
// types, in declaration order.
func Tables() []Table {
	return []Table{
		{Name: EventsTable, Stream: EventsStream, Kind: schema.RecordEvent, Columns: columnsOf(reflect.TypeFor[EventRow]())},
		{Name: AlertsTable, Stream: AlertsStream, Kind: schema.RecordAlert, Columns: columnsOf(reflect.TypeFor[AlertRow]())},
		{Name: IncidentsTable, Stream: IncidentsStream, Kind: schema.RecordIncident, Columns: columnsOf(reflect.TypeFor[IncidentRow]())},
		{Name: FindingsTable, Stream: FindingsStream, Kind: schema.RecordFinding, Columns: columnsOf(reflect.TypeFor[FindingRow]())},
		{Name: ActionsTable, Stream: ActionsStream, Kind: schema.RecordAction, Columns: columnsOf(reflect.TypeFor[ActionRow]())},
	}
}

// StreamFor returns the default stream of a record kind, or "" when the kind
// has no table.
func StreamFor(kind string) string {
	for _, t := range Tables() {
		if t.Kind == kind {
			return t.Stream
		}
	}
	return ""
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// columnsOf lists the JSON fields of a row struct with their Log Analytics
// types.
func columnsOf(t reflect.Type) []Column {
	var cols []Column
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		cols = append(cols, Column{Name: name, Type: kqlType(f.Type)})
	}
	return cols
}

func kqlType(t reflect.Type) string {
	switch {
	case t == timeType:
		return "datetime"
	case t == rawType:
		return "dynamic"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int32:
		return "int"
	case reflect.Int64:
		return "long"
	case reflect.Float32, reflect.Float64:
		return "real"
	case reflect.Bool:
		return "boolean"
	default:
		return "dynamic"
	}
}

// Severity returns the Sentinel severity name of a Castellan severity:
// High, Medium, Low or Informational (critical maps to High, Sentinel's
// highest).
func Severity(s schema.Severity) string {
	switch {
	case s >= schema.SeverityHigh:
		return "High"
	case s == schema.SeverityMedium:
		return "Medium"
	case s == schema.SeverityLow:
		return "Low"
	default:
		return "Informational"
	}
}

// tacticNames maps ATT&CK Enterprise tactic ids to Sentinel's AttackTactic
// names (the values alert rules and incidents use).
var tacticNames = map[string]string{
	"TA0043": "Reconnaissance",
	"TA0042": "ResourceDevelopment",
	"TA0001": "InitialAccess",
	"TA0002": "Execution",
	"TA0003": "Persistence",
	"TA0004": "PrivilegeEscalation",
	"TA0005": "DefenseEvasion",
	"TA0006": "CredentialAccess",
	"TA0007": "Discovery",
	"TA0008": "LateralMovement",
	"TA0009": "Collection",
	"TA0011": "CommandAndControl",
	"TA0010": "Exfiltration",
	"TA0040": "Impact",
}

// TacticName returns Sentinel's name of an ATT&CK tactic id (TA0006 →
// CredentialAccess). Unknown ids fall back to the tactic's name without
// spaces, else the id.
func TacticName(t schema.Tactic) string {
	if n, ok := tacticNames[t.ID]; ok {
		return n
	}
	if t.Name != "" {
		return strings.ReplaceAll(strings.ReplaceAll(t.Name, " ", ""), "-", "")
	}
	return t.ID
}
