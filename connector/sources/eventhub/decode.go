package eventhub

import (
	"errors"
	"fmt"

	"github.com/castellan-itdr/castellan/mappings/entra"
	"github.com/castellan-itdr/castellan/mappings/schema"
)

// decodeDiagnostic decodes an Event Hubs message body written by Azure
// Monitor diagnostic settings: its "records" array, one event per record of
// a category mappings/entra maps. A body that is not such an envelope is one
// error; each record that does not map is one error.
func decodeDiagnostic(body []byte) ([]schema.Event, []error) {
	recs, err := entra.SplitDiagnostic(body)
	if err != nil {
		return nil, []error{err}
	}
	evs := make([]schema.Event, 0, len(recs))
	var errs []error
	for i, raw := range recs {
		ev, err := entra.FromDiagnosticRecord(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("record %d: %w", i, err))
			continue
		}
		evs = append(evs, ev)
	}
	return evs, errs
}

// isUnsupported reports a record of a category the mapping does not handle
// (ProvisioningLogs, ADFSSignInLogs, …): skipped, not malformed.
func isUnsupported(err error) bool { return errors.Is(err, entra.ErrUnsupportedCategory) }
