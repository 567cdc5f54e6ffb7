package entra

import (
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

func mapRiskDetection(r *rec, ev *schema.Event) error {
	id, err := r.id()
	if err != nil {
		return err
	}
	ts, err := r.time("detectedDateTime")
	if err != nil {
		return err
	}
	o := r.obj
	ev.ID = r.eventID(ResourceRiskDetection, id+"|"+str(o, "lastUpdatedDateTime"))
	ev.Timestamp = ts
	ev.Event.Kind = schema.KindCloudRisk
	ev.Event.Action = "risk-detection"
	ev.Event.RecordID = id
	ev.Event.Channel = CategoryUserRiskEvents
	ev.Event.Reason = str(o, "riskDetail")
	ev.User = userFromUPN(str(o, "userPrincipalName"), str(o, "userId"))
	ev.Source.IP = str(o, "ipAddress")
	c := &ev.Cloud
	c.Category = CategoryUserRiskEvents
	c.RiskLevel = str(o, "riskLevel")
	c.RiskState = str(o, "riskState")
	c.RiskEventType = str(o, "riskEventType")
	c.CorrelationID = str(o, "correlationId")
	loc := obj(o, "location")
	c.Country = str(loc, "countryOrRegion")
	c.City = str(loc, "city")
	c.Latitude, c.Longitude = geo(loc)
	c.UserAgent = additionalInfo(o["additionalInfo"], "userAgent")
	return nil
}

// additionalInfo finds key in riskDetection additionalInfo: a JSON-encoded
// string in Graph, sometimes an array in diagnostic records, both holding
// [{"Key":…,"Value":…}].
func additionalInfo(v any, key string) string {
	if s, ok := v.(string); ok {
		if v, ok = decodeEmbedded(s); !ok {
			return ""
		}
	}
	a, _ := v.([]any)
	for _, e := range a {
		kv, ok := e.(map[string]any)
		if ok && strings.EqualFold(str(kv, "key"), key) {
			return str(kv, "value")
		}
	}
	return ""
}

func mapRiskyUser(r *rec, ev *schema.Event) error {
	id, err := r.id()
	if err != nil {
		return err
	}
	ts, err := r.time("riskLastUpdatedDateTime")
	if err != nil {
		return err
	}
	o := r.obj
	ev.ID = r.eventID(ResourceRiskyUser, id+"|"+str(o, "riskLastUpdatedDateTime"))
	ev.Timestamp = ts
	ev.Event.Kind = schema.KindCloudRisk
	ev.Event.Action = "risky-user-state"
	ev.Event.RecordID = id
	ev.Event.Channel = CategoryRiskyUsers
	ev.Event.Reason = str(o, "riskDetail")
	ev.User = userFromUPN(str(o, "userPrincipalName"), id)
	c := &ev.Cloud
	c.Category = CategoryRiskyUsers
	c.RiskLevel = str(o, "riskLevel")
	c.RiskState = str(o, "riskState")
	return nil
}
