package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/auditlogs"
	"github.com/microsoftgraph/msgraph-sdk-go/identityprotection"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Retry policy of Graph requests (kiota's RetryHandler, per request): 429,
// 503 and 504 are retried up to maxRetries times, each after the response's
// Retry-After (seconds or an HTTP date), else after an exponential delay
// from retryDelaySeconds; kiota caps the cumulative delay at 180 s. A
// throttling storm longer than that fails the poll, which the source
// retries at the next poll from its unchanged watermark — nothing is lost,
// and the remembered ids keep what was already handed off from repeating.
const (
	maxRetries        = 5
	retryDelaySeconds = 3
)

// errorMappings maps every error status to Graph's OData error envelope.
var errorMappings = abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

var registerOnce sync.Once

// registerPageIteratorErrors maps later-page errors to ODataError too
// (reference §4.6 item 6); without it a 4xx on page 2 is an untyped
// ApiError "no error factory is registered".
func registerPageIteratorErrors() {
	registerOnce.Do(func() {
		// An error means someone registered first (e.g. the respond
		// package); their mapping is the same envelope.
		_ = msgraphcore.RegisterError(msgraphcore.PageIteratorErrorRegistryKey, errorMappings)
	})
}

// graphPager is the Pager over msgraph-sdk-go.
//
// Field fidelity: records are not decoded into the SDK's typed models and
// serialized back — that drops or reshapes what the v1.0 models do not
// know (beta properties land in AdditionalData as strings) and re-renders
// numbers and times. Instead the page type below (rawPage) takes each
// element of "value" from kiota's JSON parse tree as it came (strings,
// int64/float64 numbers, nulls, nesting) and hands mappings/entra JSON
// equal to Graph's, so Graph and Event Hubs records map identically. The
// SDK still builds the requests (typed query parameters), authenticates,
// retries, maps errors, and msgraphcore.PageIterator follows
// @odata.nextLink.
type graphPager struct {
	adapter abstractions.RequestAdapter
	client  *msgraphsdk.GraphServiceClient
	retry   *khttp.RetryHandlerOptions
}

// NewGraphPager returns the SDK-backed Pager for graphURL (the base URL
// with version, e.g. "https://graph.microsoft.com/v1.0"), authenticating
// with cred for the "<graph origin>/.default" scope.
func NewGraphPager(cred azcore.TokenCredential, graphURL string) (Pager, error) {
	u, err := url.Parse(graphURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("graph url %q: not absolute", graphURL)
	}
	// The scope is always the public-cloud style "<origin>/.default" of
	// the real Graph host; a local double accepts any token.
	scope := u.Scheme + "://" + u.Host + "/.default"
	if isLoopback(u.Hostname()) {
		scope = "https://graph.microsoft.com/.default"
	}
	// Hosts must list the Graph host or kiota silently sends no token
	// (reference §4.6 item 1).
	client, err := msgraphsdk.NewGraphServiceClientWithCredentialsAndHosts(cred, []string{scope}, []string{u.Hostname()})
	if err != nil {
		return nil, err
	}
	client.GetAdapter().SetBaseUrl(graphURL)
	registerPageIteratorErrors()
	return &graphPager{
		adapter: client.GetAdapter(),
		client:  client,
		retry: &khttp.RetryHandlerOptions{
			MaxRetries:   maxRetries,
			DelaySeconds: retryDelaySeconds,
			ShouldRetry:  func(time.Duration, int, *http.Request, *http.Response) bool { return true },
		},
	}, nil
}

// List implements Pager.
func (p *graphPager) List(ctx context.Context, q Query, fn func(raw []byte) error) error {
	ri, err := p.request(ctx, q)
	if err != nil {
		return err
	}
	return p.each(ctx, ri, fn)
}

// each sends the first page's request ri and calls fn with the raw JSON of
// every element of "value", following every @odata.nextLink with the
// retry policy; it stops at fn's first error and returns it. Graph errors
// are described (describe).
func (p *graphPager) each(ctx context.Context, ri *abstractions.RequestInformation, fn func(raw []byte) error) error {
	first, err := p.adapter.Send(ctx, ri, newRawPage, errorMappings)
	if err != nil {
		return describe(err)
	}
	if first == nil {
		return errors.New("empty response")
	}
	it, err := msgraphcore.NewPageIterator[json.RawMessage](first, p.adapter, newRawPage)
	if err != nil {
		return err
	}
	it.SetReqOptions([]abstractions.RequestOption{p.retry})
	var cbErr error
	err = it.Iterate(ctx, func(raw json.RawMessage) bool {
		cbErr = fn(raw)
		return cbErr == nil
	})
	if cbErr != nil {
		return cbErr
	}
	return describe(err)
}

// request builds the first page's request with the SDK's typed builders.
func (p *graphPager) request(ctx context.Context, q Query) (*abstractions.RequestInformation, error) {
	r := resources[q.Resource]
	filter, err := q.Filter()
	if err != nil {
		return nil, err
	}
	top := int32(q.Top)
	var order []string
	if r.orderBy {
		order = []string{r.dateProp + " asc"}
	}
	opts := []abstractions.RequestOption{p.retry}
	switch q.Resource {
	case ResourceSignIns:
		return p.client.AuditLogs().SignIns().ToGetRequestInformation(ctx, &auditlogs.SignInsRequestBuilderGetRequestConfiguration{
			QueryParameters: &auditlogs.SignInsRequestBuilderGetQueryParameters{Filter: &filter, Top: &top, Orderby: order},
			Options:         opts})
	case ResourceDirectoryAudits:
		return p.client.AuditLogs().DirectoryAudits().ToGetRequestInformation(ctx, &auditlogs.DirectoryAuditsRequestBuilderGetRequestConfiguration{
			QueryParameters: &auditlogs.DirectoryAuditsRequestBuilderGetQueryParameters{Filter: &filter, Top: &top, Orderby: order},
			Options:         opts})
	case ResourceRiskDetections:
		return p.client.IdentityProtection().RiskDetections().ToGetRequestInformation(ctx, &identityprotection.RiskDetectionsRequestBuilderGetRequestConfiguration{
			QueryParameters: &identityprotection.RiskDetectionsRequestBuilderGetQueryParameters{Filter: &filter, Top: &top, Orderby: order},
			Options:         opts})
	case ResourceRiskyUsers:
		return p.client.IdentityProtection().RiskyUsers().ToGetRequestInformation(ctx, &identityprotection.RiskyUsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &identityprotection.RiskyUsersRequestBuilderGetQueryParameters{Filter: &filter, Top: &top, Orderby: order},
			Options:         opts})
	}
	return nil, fmt.Errorf("unknown resource %q", q.Resource)
}

// describe adds the OData code and status to an SDK error.
func describe(err error) error {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		code, msg := "", ""
		if e := oe.GetErrorEscaped(); e != nil {
			if c := e.GetCode(); c != nil {
				code = *c
			}
			if m := e.GetMessage(); m != nil {
				msg = *m
			}
		}
		return fmt.Errorf("graph: HTTP %d %s: %s: %w", oe.ResponseStatusCode, code, msg, err)
	}
	return err
}

// rawPage is one Graph collection page whose items stay raw JSON. It
// implements serialization.Parsable and the GetValue / GetOdataNextLink
// accessors msgraphcore.PageIterator looks for.
type rawPage struct {
	value []json.RawMessage
	next  *string
}

func newRawPage(serialization.ParseNode) (serialization.Parsable, error) {
	return &rawPage{value: []json.RawMessage{}}, nil
}

// GetValue returns the page's records.
func (p *rawPage) GetValue() []json.RawMessage { return p.value }

// GetOdataNextLink returns the next page's URL, nil on the last page.
func (p *rawPage) GetOdataNextLink() *string { return p.next }

// Serialize is not supported: pages are only read.
func (p *rawPage) Serialize(serialization.SerializationWriter) error {
	return errors.New("entra: a page cannot be serialized")
}

// GetFieldDeserializers reads "value" as raw JSON and the next link.
func (p *rawPage) GetFieldDeserializers() map[string]func(serialization.ParseNode) error {
	return map[string]func(serialization.ParseNode) error{
		"value": func(n serialization.ParseNode) error {
			v, err := n.GetRawValue()
			if err != nil {
				return err
			}
			items, ok := v.([]any)
			if !ok && v != nil {
				return fmt.Errorf("graph: value is %T, not an array", v)
			}
			for _, it := range items {
				b, err := json.Marshal(it)
				if err != nil {
					return err
				}
				p.value = append(p.value, b)
			}
			return nil
		},
		"@odata.nextLink": func(n serialization.ParseNode) error {
			s, err := n.GetStringValue()
			p.next = s
			return err
		},
	}
}
