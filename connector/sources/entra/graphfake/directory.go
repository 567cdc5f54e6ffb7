package graphfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The directory endpoints the posture snapshot reads (v1.0), answered after
// the same authentication and scripted faults as the reporting endpoints:
//
//   - GET roleManagement/directory/roleDefinitions, roleAssignments,
//     roleAssignmentScheduleInstances, roleEligibilitySchedules: $select,
//     $filter is refused (400, as this double does not evaluate it), and
//     $expand=principal inlines the principal; without it the "principal"
//     property is absent, as in Graph. No $top: the server pages.
//   - GET users, applications, servicePrincipals,
//     reports/authenticationMethods/userRegistrationDetails: $select and
//     $top (1..999; other values 400 "Invalid page size specified").
//   - GET identity/conditionalAccess/policies: $select; no $top.
//
// $select keeps the listed properties plus id (Graph always returns id).
// Pages are at most $top (or the server page size, SetDirectoryPageSize,
// default 100) long, with an absolute @odata.nextLink carrying a one-use
// $skiptoken. Unknown query parameters are 400 Request_UnsupportedQuery;
// FailDirectory scripts an error for one path (e.g. 403 for a tenant
// without the licence PIM or the registration report needs).

// Directory endpoint paths under /v1.0.
const (
	RoleDefinitions           = "roleManagement/directory/roleDefinitions"
	RoleAssignments           = "roleManagement/directory/roleAssignments"
	RoleAssignmentInstances   = "roleManagement/directory/roleAssignmentScheduleInstances"
	RoleEligibilitySchedules  = "roleManagement/directory/roleEligibilitySchedules"
	Users                     = "users"
	UserRegistrationDetails   = "reports/authenticationMethods/userRegistrationDetails"
	ConditionalAccessPolicies = "identity/conditionalAccess/policies"
	Applications              = "applications"
	ServicePrincipals         = "servicePrincipals"
)

type dirEndpoint struct {
	params  []string // accepted query parameters besides $skiptoken
	hasTop  bool
	context string
}

var dirEndpoints = map[string]dirEndpoint{
	RoleDefinitions:           {params: []string{"$select"}, context: "roleManagement/directory/roleDefinitions"},
	RoleAssignments:           {params: []string{"$select", "$expand"}, context: "roleManagement/directory/roleAssignments"},
	RoleAssignmentInstances:   {params: []string{"$select", "$expand"}, context: "roleManagement/directory/roleAssignmentScheduleInstances"},
	RoleEligibilitySchedules:  {params: []string{"$select", "$expand"}, context: "roleManagement/directory/roleEligibilitySchedules"},
	Users:                     {params: []string{"$select", "$top"}, hasTop: true, context: "users"},
	UserRegistrationDetails:   {params: []string{"$select", "$top"}, hasTop: true, context: "reports/authenticationMethods/userRegistrationDetails"},
	ConditionalAccessPolicies: {params: []string{"$select"}, context: "identity/conditionalAccess/policies"},
	Applications:              {params: []string{"$select", "$top"}, hasTop: true, context: "applications"},
	ServicePrincipals:         {params: []string{"$select", "$top"}, hasTop: true, context: "servicePrincipals"},
}

type dirFault struct {
	status        int
	code, message string
}

type dirState struct {
	mu       sync.Mutex
	objects  map[string][]map[string]any
	faults   map[string]dirFault
	pageSize int
	pages    map[string]*dirPage
	next     int
}

type dirPage struct {
	path    string
	objects []map[string]any
	top     int
}

var dirStates sync.Map // *Server → *dirState

func (s *Server) dir() *dirState {
	v, _ := dirStates.LoadOrStore(s, &dirState{objects: map[string][]map[string]any{}, faults: map[string]dirFault{},
		pageSize: 100, pages: map[string]*dirPage{}})
	return v.(*dirState)
}

// AddDirectory stores objects (anything that marshals to a JSON object
// with an "id") under a directory path (RoleDefinitions, Users, …). Role
// assignments and eligibility schedules may carry a "principal" object,
// served only with $expand=principal.
func (s *Server) AddDirectory(path string, objects ...any) error {
	if _, ok := dirEndpoints[path]; !ok {
		return fmt.Errorf("graphfake: unknown directory path %q", path)
	}
	d := s.dir()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range objects {
		raw, err := json.Marshal(o)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("graphfake: %s object is not a JSON object: %w", path, err)
		}
		if id, _ := m["id"].(string); id == "" {
			return fmt.Errorf("graphfake: %s object without id: %s", path, raw)
		}
		d.objects[path] = append(d.objects[path], m)
	}
	return nil
}

// FailDirectory makes every request to path answer status with the OData
// error code and message (status 0 clears it).
func (s *Server) FailDirectory(path string, status int, code, message string) {
	d := s.dir()
	d.mu.Lock()
	defer d.mu.Unlock()
	if status == 0 {
		delete(d.faults, path)
		return
	}
	d.faults[path] = dirFault{status, code, message}
}

// SetDirectoryPageSize sets the page length used when a request has no
// $top (default 100).
func (s *Server) SetDirectoryPageSize(n int) {
	d := s.dir()
	d.mu.Lock()
	d.pageSize = n
	d.mu.Unlock()
}

// serveDirectory answers the directory endpoints; handled is false for any
// other path.
func (s *Server) serveDirectory(w http.ResponseWriter, r *http.Request) (status int, handled bool) {
	path, ok := strings.CutPrefix(r.URL.Path, "/v1.0/")
	if !ok {
		return 0, false
	}
	ep, ok := dirEndpoints[path]
	if !ok {
		return 0, false
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "Request_BadRequest", "The HTTP method is not allowed for the resource.")
		return http.StatusMethodNotAllowed, true
	}
	d := s.dir()
	d.mu.Lock()
	f, failing := d.faults[path]
	d.mu.Unlock()
	if failing {
		writeError(w, f.status, f.code, f.message)
		return f.status, true
	}
	q := r.URL.Query()
	if tok := q.Get("$skiptoken"); tok != "" {
		d.mu.Lock()
		pg := d.pages[tok]
		delete(d.pages, tok)
		d.mu.Unlock()
		if pg == nil || pg.path != path {
			writeError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Invalid or expired $skiptoken.")
			return http.StatusBadRequest, true
		}
		return s.writeDirPage(w, ep, pg), true
	}
	for k := range q {
		allowed := false
		for _, p := range ep.params {
			allowed = allowed || k == p
		}
		if !allowed {
			writeError(w, http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Unsupported query parameter %s.", k))
			return http.StatusBadRequest, true
		}
	}
	d.mu.Lock()
	top := d.pageSize
	d.mu.Unlock()
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			writeError(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v))
			return http.StatusBadRequest, true
		}
		top = n
	}
	expand := q.Get("$expand")
	if expand != "" && expand != "principal" {
		writeError(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.unifiedRoleAssignment'.", expand))
		return http.StatusBadRequest, true
	}
	var fields map[string]bool
	if v := q.Get("$select"); v != "" {
		fields = map[string]bool{"id": true}
		for _, f := range strings.Split(v, ",") {
			fields[strings.TrimSpace(f)] = true
		}
	}
	d.mu.Lock()
	src := d.objects[path]
	out := make([]map[string]any, 0, len(src))
	for _, o := range src {
		c := map[string]any{}
		for k, v := range o {
			if k == "principal" && expand != "principal" {
				continue
			}
			if fields != nil && !fields[k] && !(k == "principal" && expand == "principal") {
				continue
			}
			c[k] = v
		}
		out = append(out, c)
	}
	d.mu.Unlock()
	return s.writeDirPage(w, ep, &dirPage{path: path, objects: out, top: top}), true
}

func (s *Server) writeDirPage(w http.ResponseWriter, ep dirEndpoint, pg *dirPage) int {
	n := min(pg.top, len(pg.objects))
	page := map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#" + ep.context,
		"value":          pg.objects[:n],
	}
	if n < len(pg.objects) {
		d := s.dir()
		d.mu.Lock()
		d.next++
		tok := fmt.Sprintf("d%x_%d", time.Now().UnixNano(), d.next)
		d.pages[tok] = &dirPage{path: pg.path, objects: pg.objects[n:], top: pg.top}
		d.mu.Unlock()
		page["@odata.nextLink"] = s.srv.URL + "/v1.0/" + pg.path + "?" + url.Values{"$skiptoken": {tok}}.Encode()
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	_ = json.NewEncoder(w).Encode(page)
	return http.StatusOK
}
