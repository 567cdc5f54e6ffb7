package entra

import "strings"

// graphNames are the Graph property names of the mapped resources and their
// nested types (signIn, directoryAudit, riskDetection, riskyUser, and the
// beta / diagnostic-only sign-in properties). Diagnostic records sometimes
// spell them differently cased; canonicalize rewrites them to these.
var graphNames = []string{
	// signIn
	"id", "createdDateTime", "userDisplayName", "userPrincipalName", "userId",
	"appId", "appDisplayName", "ipAddress", "clientAppUsed", "correlationId",
	"conditionalAccessStatus", "isInteractive", "riskDetail", "riskLevelAggregated",
	"riskLevelDuringSignIn", "riskState", "riskEventTypes", "riskEventTypes_v2",
	"resourceDisplayName", "resourceId", "status", "deviceDetail", "location",
	"appliedConditionalAccessPolicies",
	// signIn beta / diagnostic
	"authenticationRequirement", "authenticationDetails", "authenticationMethodsUsed",
	"authenticationProtocol", "mfaDetail", "signInEventTypes", "userType", "userAgent",
	"tenantId", "homeTenantId", "resourceTenantId", "servicePrincipalId",
	"servicePrincipalName", "originalRequestId", "tokenIssuerName", "tokenIssuerType",
	"crossTenantAccessType", "incomingTokenType", "uniqueTokenIdentifier",
	"networkLocationDetails", "processingTimeInMilliseconds", "flaggedForReview",
	"onPremisesSecurityIdentifier", "onPremisesSamAccountName", "managedIdentityType",
	"authenticationStepDateTime", "authenticationMethod", "authenticationMethodDetail",
	"succeeded", "authenticationStepResultDetail", "authenticationStepRequirement",
	"authMethod", "authDetail",
	// signIn nested
	"errorCode", "failureReason", "additionalDetails", "deviceId", "displayName",
	"operatingSystem", "browser", "isCompliant", "isManaged", "trustType",
	"city", "state", "countryOrRegion", "geoCoordinates", "altitude", "latitude",
	"longitude", "enforcedGrantControls", "enforcedSessionControls", "result",
	// directoryAudit
	"category", "resultReason", "activityDisplayName", "activityDateTime",
	"loggedByService", "operationType", "initiatedBy", "targetResources",
	"user", "app", "homeTenantName", "type", "groupType", "modifiedProperties",
	"oldValue", "newValue", "key", "value",
	// riskDetection
	"requestId", "riskEventType", "riskLevel", "source", "detectionTimingType",
	"activity", "detectedDateTime", "lastUpdatedDateTime", "additionalInfo",
	// riskyUser
	"isDeleted", "isProcessing", "riskLastUpdatedDateTime",
}

// canonicalName maps a lower-cased property name to its Graph spelling.
var canonicalName = func() map[string]string {
	m := make(map[string]string, len(graphNames))
	for _, n := range graphNames {
		m[strings.ToLower(n)] = n
	}
	return m
}()

// Canonical returns the Graph spelling of a property name known to this
// package ("CreatedDateTime" → "createdDateTime"), or name unchanged.
func Canonical(name string) string {
	if c, ok := canonicalName[strings.ToLower(name)]; ok {
		return c
	}
	return name
}

// canonicalize rewrites the keys of obj and everything under it to their
// Graph spelling. When two keys differ only in case, the Graph spelling wins.
func canonicalize(obj map[string]any) {
	for k, v := range obj {
		canonicalizeValue(v)
		c := Canonical(k)
		if c == k {
			continue
		}
		delete(obj, k)
		if _, exists := obj[c]; !exists {
			obj[c] = v
		}
	}
}

func canonicalizeValue(v any) {
	switch x := v.(type) {
	case map[string]any:
		canonicalize(x)
	case []any:
		for _, e := range x {
			canonicalizeValue(e)
		}
	}
}
