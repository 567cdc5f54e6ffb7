package ecs

import (
	"encoding/json"
	"fmt"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// categorization is the ECS event.category and event.type of an event kind.
type categorization struct{ category, typ []string }

var (
	authStart = categorization{[]string{"authentication"}, []string{"start"}}
	iamInfo   = categorization{[]string{"iam"}, []string{"info"}}
)

// eventCategories maps every normalized event kind onto ECS allowed values.
var eventCategories = map[schema.EventKind]categorization{
	schema.KindLogon:                 authStart,
	schema.KindLogonFailure:          authStart,
	schema.KindKerberosTGT:           authStart,
	schema.KindKerberosServiceTicket: authStart,
	schema.KindKerberosPreauthFail:   authStart,
	schema.KindNTLMAuth:              authStart,
	schema.KindLDAPBind:              authStart,
	schema.KindLDAPSearch:            iamInfo,
	schema.KindDirectoryChange:       {[]string{"iam"}, []string{"change"}},
	schema.KindGroupMembershipChange: {[]string{"iam"}, []string{"group", "change"}},
	schema.KindAccountChange:         {[]string{"iam"}, []string{"user", "change"}},
	schema.KindReplicationRequest:    iamInfo,
	schema.KindServiceInstall:        {[]string{"configuration"}, []string{"creation"}},
	schema.KindAuditPolicyChange:     {[]string{"configuration"}, []string{"change"}},
	schema.KindLogCleared:            {[]string{"configuration"}, []string{"deletion"}},
	schema.KindCloudSignin:           authStart,
	schema.KindCloudAudit:            {[]string{"iam"}, []string{"change"}},
	schema.KindCloudRisk:             {[]string{"intrusion_detection"}, []string{"info"}},
	schema.KindDirectoryIdentity:     {[]string{"iam"}, []string{"info", "user"}},
	schema.KindRPCCall:               {[]string{"network"}, []string{"protocol"}},
	schema.KindDNSQuery:              {[]string{"network"}, []string{"protocol"}},
	schema.KindOther:                 {[]string{"host"}, []string{"info"}},
}

// EventCategory returns the ECS event.category and event.type values of a
// normalized event kind (host/info for an unknown kind).
func EventCategory(k schema.EventKind) (category, typ []string) {
	c, ok := eventCategories[k]
	if !ok {
		c = eventCategories[schema.KindOther]
	}
	return c.category, c.typ
}

// FromEvent maps a normalized event: event.kind "event" with ECS
// categorization; identity details ECS has no field for go to castellan.*.
func FromEvent(e *schema.Event, o Options) Document {
	d := base(e.Timestamp, DatasetEvent, schema.RecordEvent, o, true)
	d.Event.Kind = "event"
	d.Event.Category, d.Event.Type = EventCategory(e.Event.Kind)
	d.Event.Code = e.Event.Code
	d.Event.Action = e.Event.Action
	if d.Event.Action == "" {
		d.Event.Action = string(e.Event.Kind)
	}
	d.Event.Outcome = e.Event.Outcome
	d.Event.Provider = e.Event.Provider
	d.Event.Reason = e.Event.Reason
	d.Event.ID = e.ID
	d.Message = string(e.Event.Kind)
	if e.Event.Action != "" {
		d.Message += ": " + e.Event.Action
	}
	if id := e.User.Identity(); id != "" {
		d.Message += " by " + id
	}
	d.Castellan.Event = CastellanEvent{
		Kind: string(e.Event.Kind), Channel: e.Event.Channel, RecordID: e.Event.RecordID, Source: e.Event.Dataset,
	}
	d.Host = host(e.Host)
	d.User, d.Castellan.User = user(e.User)
	d.User.Target, d.Castellan.Target = target(e.Target)
	d.Source = endpoint(e.Source)
	d.Destination = endpoint(e.Destination)
	d.Source.Geo = Geo{CountryISOCode: e.Cloud.Country, CityName: e.Cloud.City}

	a := &d.Castellan.Auth
	a.Protocol, a.LogonType, a.Package, a.Process, a.FailureCode =
		e.Auth.Protocol, e.Auth.LogonType, e.Auth.Package, e.Auth.Process, e.Auth.FailureCode
	a.Kerberos.Etype, a.Kerberos.PreauthType, a.Kerberos.TicketOptions, a.Kerberos.Status =
		e.Auth.Kerberos.Etype, e.Auth.Kerberos.PreauthType, e.Auth.Kerberos.TicketOptions, e.Auth.Kerberos.Status
	a.NTLM.Version, a.NTLM.Workstation = e.Auth.NTLM.Version, e.Auth.NTLM.Workstation

	dir := &d.Castellan.Directory
	dir.Object.DN, dir.Object.Class, dir.Object.GUID, dir.Object.Name =
		e.Directory.Object.DN, e.Directory.Object.Class, e.Directory.Object.GUID, e.Directory.Object.Name
	dir.Attribute, dir.Operation, dir.OldValue, dir.NewValue, dir.Properties, dir.AccessMask =
		e.Directory.Attribute, e.Directory.Operation, e.Directory.OldValue, e.Directory.NewValue,
		e.Directory.Properties, e.Directory.AccessMask

	d.Service = Service{Name: e.Service.Name, Type: e.Service.Type}
	d.Castellan.Service = CastellanService{File: e.Service.File, StartType: e.Service.StartType, Account: e.Service.Account}

	c := e.Cloud
	if c != (schema.Cloud{}) {
		d.Cloud = Cloud{Provider: "azure", Account: CloudAccount{ID: c.TenantID}}
	}
	d.UserAgent = UserAgent{Original: c.UserAgent}
	d.Castellan.Cloud = CastellanCloud{
		App: c.App, AppID: c.AppID, ClientApp: c.ClientApp, RiskLevel: c.RiskLevel, RiskState: c.RiskState,
		RiskEventType: c.RiskEventType, CAStatus: c.CAStatus, Category: c.Category, Operation: c.Operation,
		CorrelationID: c.CorrelationID, IsInteractive: c.IsInteractive, OnPremSID: c.OnPremSID,
		ErrorCode: c.ErrorCode, DeviceID: c.DeviceID, DeviceCompliant: c.DeviceCompliant,
	}
	if len(e.Original) > 0 {
		d.Castellan.Original = e.Original
	}
	d.Related = related([]schema.User{e.User, e.Target.User}, []string{e.Source.IP, e.Destination.IP, e.Host.IP},
		[]string{e.Host.Name, e.Source.Hostname, e.Destination.Hostname})
	return d
}

// FromRecord maps a typed record (a schema.Event, Alert, Incident, Finding
// or Action, or a pointer to one).
func FromRecord(r schema.Record, o Options) (Document, error) {
	switch v := r.(type) {
	case schema.Event:
		return FromEvent(&v, o), nil
	case *schema.Event:
		return FromEvent(v, o), nil
	case schema.Alert:
		return FromAlert(&v, o), nil
	case *schema.Alert:
		return FromAlert(v, o), nil
	case schema.Incident:
		return FromIncident(&v, o), nil
	case *schema.Incident:
		return FromIncident(v, o), nil
	case schema.Finding:
		return FromFinding(&v, o), nil
	case *schema.Finding:
		return FromFinding(v, o), nil
	case schema.Action:
		return FromAction(&v, o), nil
	case *schema.Action:
		return FromAction(v, o), nil
	}
	return Document{}, fmt.Errorf("ecs: unsupported record type %T", r)
}

// FromJSON decodes a record of the given kind (a schema.Record* constant)
// from its JSON form and maps it.
func FromJSON(kind string, body []byte, o Options) (Document, error) {
	switch kind {
	case schema.RecordEvent:
		var v schema.Event
		if err := json.Unmarshal(body, &v); err != nil {
			return Document{}, fmt.Errorf("ecs: decode event: %w", err)
		}
		return FromEvent(&v, o), nil
	case schema.RecordAlert:
		var v schema.Alert
		if err := json.Unmarshal(body, &v); err != nil {
			return Document{}, fmt.Errorf("ecs: decode alert: %w", err)
		}
		return FromAlert(&v, o), nil
	case schema.RecordIncident:
		var v schema.Incident
		if err := json.Unmarshal(body, &v); err != nil {
			return Document{}, fmt.Errorf("ecs: decode incident: %w", err)
		}
		return FromIncident(&v, o), nil
	case schema.RecordFinding:
		var v schema.Finding
		if err := json.Unmarshal(body, &v); err != nil {
			return Document{}, fmt.Errorf("ecs: decode finding: %w", err)
		}
		return FromFinding(&v, o), nil
	case schema.RecordAction:
		var v schema.Action
		if err := json.Unmarshal(body, &v); err != nil {
			return Document{}, fmt.Errorf("ecs: decode action: %w", err)
		}
		return FromAction(&v, o), nil
	}
	return Document{}, fmt.Errorf("ecs: unknown record kind %q", kind)
}
