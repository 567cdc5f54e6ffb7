package entra

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/castellan-itdr/castellan/mappings/schema"
)

// categoryResource maps a diagnostic category (lower case) to its resource
// type and canonical spelling.
var categoryResource = map[string][2]string{
	strings.ToLower(CategorySignIn):           {ResourceSignIn, CategorySignIn},
	strings.ToLower(CategoryNonInteractive):   {ResourceSignIn, CategoryNonInteractive},
	strings.ToLower(CategoryServicePrincipal): {ResourceSignIn, CategoryServicePrincipal},
	strings.ToLower(CategoryManagedIdentity):  {ResourceSignIn, CategoryManagedIdentity},
	strings.ToLower(CategoryAudit):            {ResourceDirectoryAudit, CategoryAudit},
	strings.ToLower(CategoryRiskyUsers):       {ResourceRiskyUser, CategoryRiskyUsers},
	strings.ToLower(CategoryUserRiskEvents):   {ResourceRiskDetection, CategoryUserRiskEvents},
}

// FromDiagnosticRecord maps one element of an Event Hubs message's
// "records" array. The envelope's tenantId (else the Mapper's) is the
// tenant; its time is used only when the resource has no time of its own.
func (m Mapper) FromDiagnosticRecord(raw []byte) (schema.Event, error) {
	top, err := parseObject(raw)
	if err != nil {
		return schema.Event{}, err
	}
	return m.fromDiagnosticObject(top)
}

func (m Mapper) fromDiagnosticObject(top map[string]any) (schema.Event, error) {
	var env envelope
	var props any
	for k, v := range top { // envelope keys are matched case-insensitively
		switch strings.ToLower(k) {
		case "category":
			env.category, _ = v.(string)
		case "tenantid":
			env.tenant = str(top, k)
		case "time":
			env.time = str(top, k)
		case "resulttype":
			env.result = str(top, k)
		case "properties":
			props = v
		}
	}
	res, ok := categoryResource[strings.ToLower(env.category)]
	if !ok {
		if env.category == "" {
			return schema.Event{}, fmt.Errorf("%w: no category", ErrMalformed)
		}
		return schema.Event{}, fmt.Errorf("%w: %q", ErrUnsupportedCategory, truncate(env.category, 64))
	}
	env.category = res[1]
	if s, isStr := props.(string); isStr { // some forwarders re-encode properties
		props, _ = decodeEmbedded(s)
	}
	p, ok := props.(map[string]any)
	if !ok {
		return schema.Event{}, fmt.Errorf("%w: %s record without properties", ErrMalformed, env.category)
	}
	canonicalize(p)
	return m.mapResource(p, res[0], env)
}

// SplitDiagnostic returns the "records" array of an Event Hubs message body
// written by Azure Monitor diagnostic settings, one raw record each. A body
// without a "records" array is malformed.
func SplitDiagnostic(body []byte) ([]json.RawMessage, error) {
	if len(body) > MaxBodyBytes {
		return nil, fmt.Errorf("%w: body of %d bytes exceeds %d", ErrMalformed, len(body), MaxBodyBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var top map[string]json.RawMessage
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the body", ErrMalformed)
	}
	var raw json.RawMessage
	for k, v := range top {
		if strings.EqualFold(k, "records") {
			raw = v
		}
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: no records array", ErrMalformed)
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(raw, &recs); err != nil {
		return nil, fmt.Errorf("%w: records: %v", ErrMalformed, err)
	}
	return recs, nil
}
