package entra

import (
	"context"
	"fmt"
	"time"

	mapping "github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// resource describes one polled Graph collection.
type resource struct {
	name     string // config name, e.g. "signins"
	path     string // under the Graph base URL, e.g. "auditLogs/signIns"
	dateProp string // the property windowed on with $filter ge
	// orderBy sends $orderby=<dateProp> asc; only where Graph documents
	// $orderby (directory audits). Correctness never depends on order.
	orderBy bool
	maxTop  int
	mapFn   func(m mapping.Mapper, raw []byte) (schema.Event, error)
}

// resources by config name. The date properties follow reference §4.1/§4.4:
// sign-ins createdDateTime, directory audits activityDateTime, risk
// detections detectedDateTime, risky users riskLastUpdatedDateTime.
var resources = map[string]*resource{
	ResourceSignIns: {
		name: ResourceSignIns, path: "auditLogs/signIns", dateProp: "createdDateTime",
		maxTop: maxPageSizeSignIns, mapFn: mapping.Mapper.FromSignIn,
	},
	ResourceDirectoryAudits: {
		name: ResourceDirectoryAudits, path: "auditLogs/directoryAudits", dateProp: "activityDateTime",
		orderBy: true, maxTop: maxPageSizeSignIns, mapFn: mapping.Mapper.FromDirectoryAudit,
	},
	ResourceRiskDetections: {
		name: ResourceRiskDetections, path: "identityProtection/riskDetections", dateProp: "detectedDateTime",
		maxTop: maxPageSizeRiskDetection, mapFn: mapping.Mapper.FromRiskDetection,
	},
	ResourceRiskyUsers: {
		name: ResourceRiskyUsers, path: "identityProtection/riskyUsers", dateProp: "riskLastUpdatedDateTime",
		maxTop: maxPageSizeRiskDetection, mapFn: mapping.Mapper.FromRiskyUser,
	},
}

// CheckpointKey is the checkpoint key of a resource: "graph:" + its config
// name, e.g. "graph:signins".
func CheckpointKey(resource string) string { return "graph:" + resource }

// Query is one listing of a resource: every record whose date property is
// at or after Since.
type Query struct {
	// Resource is the config name: signins, directory_audits,
	// risk_detections or risky_users.
	Resource string
	// Since is the inclusive lower bound of the date property.
	Since time.Time
	// Top is the page size ($top).
	Top int
}

// Filter is the OData $filter of q: "<date property> ge <Since>", Since
// in UTC truncated to the second (Graph's DateTimeOffset literal, unquoted).
func (q Query) Filter() (string, error) {
	r, ok := resources[q.Resource]
	if !ok {
		return "", fmt.Errorf("entra: unknown resource %q", q.Resource)
	}
	return r.dateProp + " ge " + q.Since.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z"), nil
}

// Pager lists Graph resources. The source calls List from one goroutine at
// a time. The production Pager is the Graph SDK client (NewGraphPager);
// tests substitute their own.
type Pager interface {
	// List calls fn with the raw JSON of every record (one element of a
	// page's "value") matching q, following every @odata.nextLink to the
	// last page. Order is the server's. An error from fn stops the listing
	// and is returned; so is an error of any page after retries. Records
	// passed to fn before an error stay passed.
	List(ctx context.Context, q Query, fn func(raw []byte) error) error
}
