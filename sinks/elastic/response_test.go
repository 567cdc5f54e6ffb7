package elastic

import (
	"encoding/json"
	"testing"
)

// TestBulkSummaryMatchesUnmarshal checks the response scanner against
// encoding/json where it answers, and that it declines what it cannot.
func TestBulkSummaryMatchesUnmarshal(t *testing.T) {
	for _, body := range []string{
		`{"errors":false,"took":3,"items":[{"create":{"_id":"a","status":201}},{"index":{"_id":"b\"]}","status":200}}]}`,
		`{"errors":true,"items":[{"create":{"status":429,"error":{"type":"x","reason":"[}"}}}]}`,
		` {"took":1,"items":[],"errors":false} `,
		`{"Errors":true,"ITEMS":[null,{}]}`,
		`{"errors":null,"items":null}`,
		`{}`,
		`{"errors":false,"items":[1]}`,
		`{"errors":"no","items":[]}`,
		`{"errors":false,"items":{}}`,
		`{"errors":false,"items":[{}]`,
		`{"errors":false,"items":[{}]}x`,
		`[]`,
		`{"err\u006frs":true,"items":[]}`,
		``,
	} {
		var brief struct {
			Errors bool       `json:"errors"`
			Items  []struct{} `json:"items"`
		}
		werr := json.Unmarshal([]byte(body), &brief)
		e, n, ok := bulkSummary([]byte(body))
		if ok && (werr != nil || e != brief.Errors || n != len(brief.Items)) {
			t.Errorf("%s: scanner %v %d, unmarshal %v %d %v", body, e, n, brief.Errors, len(brief.Items), werr)
		}
		if !ok && werr == nil && body != `{"err\u006frs":true,"items":[]}` {
			t.Errorf("%s: scanner declined a body encoding/json reads", body)
		}
	}
}
