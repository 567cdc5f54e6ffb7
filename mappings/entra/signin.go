package entra

import (
	"strconv"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// Auth protocols of sign-ins (auth.protocol).
const (
	ProtocolOAuth  = "oauth"
	ProtocolLegacy = "legacy"
)

// legacyClients are clientAppUsed values of legacy (basic) authentication,
// lower case. Everything else ("Browser", "Mobile Apps and Desktop
// clients") is modern authentication.
var legacyClients = map[string]bool{
	"exchange activesync":              true,
	"imap4":                            true,
	"imap":                             true,
	"pop3":                             true,
	"pop":                              true,
	"smtp":                             true,
	"authenticated smtp":               true,
	"mapi over http":                   true,
	"autodiscover":                     true,
	"exchange online powershell":       true,
	"exchange web services":            true,
	"offline address book":             true,
	"outlook anywhere (rpc over http)": true,
	"reporting web services":           true,
	"other clients":                    true,
	"universal outlook":                true,
}

// IsLegacyClient reports whether a clientAppUsed value is a legacy
// authentication client.
func IsLegacyClient(clientAppUsed string) bool {
	return legacyClients[strings.ToLower(strings.TrimSpace(clientAppUsed))]
}

func mapSignIn(r *rec, ev *schema.Event) error {
	id, err := r.id()
	if err != nil {
		return err
	}
	ts, err := r.time("createdDateTime")
	if err != nil {
		return err
	}
	o := r.obj
	ev.ID = r.eventID(ResourceSignIn, id)
	ev.Timestamp = ts
	ev.Event.Kind = schema.KindCloudSignin
	ev.Event.Action = "sign-in"
	ev.Event.RecordID = id

	category := r.env.category
	if category == "" {
		category = signInCategory(o)
	}
	ev.Event.Channel = category
	ev.Cloud.Category = category

	if upn, uid := str(o, "userPrincipalName"), str(o, "userId"); upn != "" || uid != "" {
		ev.User = userFromUPN(upn, uid)
	} else if spID := str(o, "servicePrincipalId"); spID != "" {
		// Service-principal and managed-identity sign-ins have no user.
		ev.User = schema.User{Name: firstNonEmpty(str(o, "servicePrincipalName"), str(o, "appDisplayName")), ID: spID}
	}
	ev.Source.IP = str(o, "ipAddress")

	status := obj(o, "status")
	code, ok := number(status, "errorCode")
	if !ok {
		var err error
		code, err = strconv.Atoi(r.env.result)
		ok = err == nil
	}
	switch {
	case !ok:
		ev.Event.Outcome = schema.OutcomeUnknown
	case code == 0:
		ev.Event.Outcome = schema.OutcomeSuccess
	default:
		ev.Event.Outcome = schema.OutcomeFailure
		ev.Event.Reason = str(status, "failureReason")
	}
	if ok {
		ev.Event.Code = strconv.Itoa(code)
		ev.Cloud.ErrorCode = code
	}

	client := str(o, "clientAppUsed")
	ev.Auth.Protocol = ProtocolOAuth
	if IsLegacyClient(client) {
		ev.Auth.Protocol = ProtocolLegacy
	}

	c := &ev.Cloud
	c.App = str(o, "appDisplayName")
	c.AppID = str(o, "appId")
	c.ClientApp = client
	c.RiskLevel = signInRiskLevel(o)
	c.RiskState = str(o, "riskState")
	c.RiskEventType = joinStrings(list(o, "riskEventTypes_v2"))
	if c.RiskEventType == "" {
		c.RiskEventType = joinStrings(list(o, "riskEventTypes"))
	}
	c.CAStatus = str(o, "conditionalAccessStatus")
	loc := obj(o, "location")
	c.Country = str(loc, "countryOrRegion")
	c.City = str(loc, "city")
	c.Latitude, c.Longitude = geo(loc)
	c.IsInteractive = boolean(o, "isInteractive")
	c.UserAgent = str(o, "userAgent")
	dev := obj(o, "deviceDetail")
	c.DeviceID = str(dev, "deviceId")
	c.DeviceCompliant = boolean(dev, "isCompliant")
	c.CorrelationID = str(o, "correlationId")
	c.OnPremSID = str(o, "onPremisesSecurityIdentifier")
	return nil
}

// geo reads location.geoCoordinates as decimal degrees; out-of-range or
// missing coordinates give 0, 0 (unknown).
func geo(loc map[string]any) (lat, lon float64) {
	g := obj(loc, "geoCoordinates")
	la, err1 := strconv.ParseFloat(str(g, "latitude"), 64)
	lo, err2 := strconv.ParseFloat(str(g, "longitude"), 64)
	if err1 != nil || err2 != nil || la < -90 || la > 90 || lo < -180 || lo > 180 {
		return 0, 0
	}
	return la, lo
}

// signInCategory derives the diagnostic category of a Graph sign-in, so
// Graph and Event Hubs agree on cloud.category.
func signInCategory(o map[string]any) string {
	switch {
	case str(o, "userId") == "" && str(o, "userPrincipalName") == "" && str(o, "servicePrincipalId") != "":
		if str(o, "managedIdentityType") != "" && !strings.EqualFold(str(o, "managedIdentityType"), "none") {
			return CategoryManagedIdentity
		}
		return CategoryServicePrincipal
	case boolean(o, "isInteractive"):
		return CategorySignIn
	case o["isInteractive"] == nil:
		// v1.0 /auditLogs/signIns returns interactive sign-ins only.
		return CategorySignIn
	default:
		return CategoryNonInteractive
	}
}

// signInRiskLevel is riskLevelDuringSignIn unless that is empty or "none"
// and the aggregated level says more.
func signInRiskLevel(o map[string]any) string {
	during, agg := str(o, "riskLevelDuringSignIn"), str(o, "riskLevelAggregated")
	if (during == "" || during == "none") && agg != "" && agg != "none" {
		return agg
	}
	if during == "" {
		return agg
	}
	return during
}

// joinStrings joins the string elements of a JSON array with ",".
func joinStrings(a []any) string {
	var b strings.Builder
	for _, e := range a {
		s, _ := e.(string)
		if s == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s)
	}
	return b.String()
}
