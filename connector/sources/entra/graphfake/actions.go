package graphfake

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The response-action endpoints (reference §4.5), answered after the
// same authentication and scripted faults as the reporting endpoints:
//
//   - GET /v1.0/users/{id|userPrincipalName} ($select honoured) for users
//     added with AddUser;
//   - PATCH /v1.0/users/{id|upn}: a user object whose only writable
//     property here is accountEnabled (boolean), plus the "@odata.type"
//     the SDK sends; 204 No Content;
//   - POST /v1.0/users/{id|upn}/revokeSignInSessions (no body): 200
//     {"@odata.context": "…#Edm.Boolean", "value": true};
//   - POST /v1.0/identityProtection/riskyUsers/confirmCompromised and
//     /dismiss with {"userIds": [...]}: 204; confirmCompromised sets the
//     user's risk to confirmedCompromised/high, dismiss to dismissed/none;
//   - GET /v1.0/identityProtection/riskyUsers/{id}: the user's risk once it
//     has one (SetRisk or the actions), else 404.
//
// An unknown user is 404 Request_ResourceNotFound; a malformed body, an
// unknown property or a wrong type is 400 Request_BadRequest in the OData
// error envelope. Bodies may be gzip-encoded (the SDK's compression
// handler does that). Every request to these endpoints is recorded with
// its decoded body (ActionRequests).

// User is a directory user the action endpoints know.
type User struct {
	ID                    string
	UserPrincipalName     string
	DisplayName           string
	AccountEnabled        bool
	OnPremisesSyncEnabled bool
}

// ActionRequest is one request to an action endpoint, body decoded.
type ActionRequest struct {
	Method, Path string
	Body         string // after gunzip; "" for none
	Gzipped      bool
	Status       int
}

type risk struct{ state, level string }

type actionState struct {
	mu          sync.Mutex
	users       map[string]*User // by id
	risks       map[string]risk  // by user id
	revocations map[string]int
	requests    []ActionRequest
}

// states holds each Server's action state (kept beside, not inside,
// Server so that this file stays self-contained).
var states sync.Map // *Server → *actionState

func (s *Server) actions() *actionState {
	v, _ := states.LoadOrStore(s, &actionState{users: map[string]*User{}, risks: map[string]risk{}, revocations: map[string]int{}})
	return v.(*actionState)
}

// AddUser adds (or replaces) a user.
func (s *Server) AddUser(u User) {
	a := s.actions()
	a.mu.Lock()
	defer a.mu.Unlock()
	c := u
	a.users[u.ID] = &c
}

// User returns a user's current state by id.
func (s *Server) User(id string) (User, bool) {
	a := s.actions()
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// SetRisk gives a user a risk state (atRisk, confirmedCompromised, …) and
// level (low, medium, high, none).
func (s *Server) SetRisk(userID, state, level string) {
	a := s.actions()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.risks[userID] = risk{state, level}
}

// Risk returns a user's risk state and level ("" when none).
func (s *Server) Risk(userID string) (state, level string) {
	a := s.actions()
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.risks[userID]
	return r.state, r.level
}

// Revocations returns how many times a user's sessions were revoked.
func (s *Server) Revocations(userID string) int {
	a := s.actions()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.revocations[userID]
}

// ActionRequests returns the requests to action endpoints so far.
func (s *Server) ActionRequests() []ActionRequest {
	a := s.actions()
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]ActionRequest(nil), a.requests...)
}

// lookup finds a user by id or UPN (case-insensitive). Caller holds a.mu.
func (a *actionState) lookup(key string) *User {
	if u := a.users[key]; u != nil {
		return u
	}
	for _, u := range a.users {
		if strings.EqualFold(u.UserPrincipalName, key) {
			return u
		}
	}
	return nil
}

// serveAction answers the action endpoints; handled is false for any
// other path (and for GET of a user it does not know, so other handlers
// may answer it).
func (s *Server) serveAction(w http.ResponseWriter, r *http.Request) (status int, handled bool) {
	path, ok := strings.CutPrefix(r.URL.Path, "/v1.0/")
	if !ok {
		return 0, false
	}
	parts := strings.Split(path, "/")
	a := s.actions()
	isUser := len(parts) >= 2 && parts[0] == "users" && parts[1] != ""
	isRisky := len(parts) == 3 && parts[0] == "identityProtection" && parts[1] == "riskyUsers"
	if !isUser && !isRisky {
		return 0, false
	}
	if isUser && r.Method == http.MethodGet && len(parts) == 2 {
		a.mu.Lock()
		known := a.lookup(parts[1]) != nil
		a.mu.Unlock()
		if !known {
			return 0, false
		}
	}
	if isRisky && r.Method == http.MethodGet && (parts[2] == "confirmCompromised" || parts[2] == "dismiss") {
		return 0, false
	}
	body, gz, err := readBody(r)
	rec := ActionRequest{Method: r.Method, Path: r.URL.Path, Body: string(body), Gzipped: gz}
	defer func() {
		rec.Status = status
		a.mu.Lock()
		a.requests = append(a.requests, rec)
		a.mu.Unlock()
	}()
	if err != nil {
		writeError(w, http.StatusBadRequest, "Request_BadRequest", "Cannot read the request body: "+err.Error())
		return http.StatusBadRequest, true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case isUser && len(parts) == 2 && r.Method == http.MethodGet:
		return a.getUser(w, r, parts[1]), true
	case isUser && len(parts) == 2 && r.Method == http.MethodPatch:
		return a.patchUser(w, parts[1], body), true
	case isUser && len(parts) == 3 && parts[2] == "revokeSignInSessions" && r.Method == http.MethodPost:
		u := a.lookup(parts[1])
		if u == nil {
			return notFound(w, parts[1]), true
		}
		a.revocations[u.ID]++
		w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
		_, _ = io.WriteString(w, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean","value":true}`)
		return http.StatusOK, true
	case isRisky && r.Method == http.MethodPost && (parts[2] == "confirmCompromised" || parts[2] == "dismiss"):
		return a.riskAction(w, parts[2], body), true
	case isRisky && r.Method == http.MethodGet:
		u := a.lookup(parts[2])
		rk, has := risk{}, false
		if u != nil {
			rk, has = a.risks[u.ID]
		}
		if !has {
			return notFound(w, parts[2]), true
		}
		writeJSON(w, map[string]any{
			"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identityProtection/riskyUsers/$entity",
			"id":             u.ID, "userPrincipalName": u.UserPrincipalName, "userDisplayName": u.DisplayName,
			"isDeleted": false, "isProcessing": false, "riskState": rk.state, "riskLevel": rk.level,
			"riskDetail": "none", "riskLastUpdatedDateTime": time.Now().UTC().Format(time.RFC3339Nano),
		})
		return http.StatusOK, true
	}
	writeError(w, http.StatusMethodNotAllowed, "Request_BadRequest", "The HTTP method is not allowed for the resource.")
	return http.StatusMethodNotAllowed, true
}

// readBody reads a request body, gunzipping it when Content-Encoding says so.
func readBody(r *http.Request) ([]byte, bool, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, false, err
	}
	if !strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		return raw, false, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, true, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, 1<<20))
	return out, true, err
}

func notFound(w http.ResponseWriter, id string) int {
	writeError(w, http.StatusNotFound, "Request_ResourceNotFound",
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
	return http.StatusNotFound
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (a *actionState) getUser(w http.ResponseWriter, r *http.Request, key string) int {
	u := a.lookup(key)
	all := map[string]any{
		"id": u.ID, "userPrincipalName": u.UserPrincipalName, "displayName": u.DisplayName,
		"accountEnabled": u.AccountEnabled, "onPremisesSyncEnabled": u.OnPremisesSyncEnabled,
	}
	out := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity"}
	sel := r.URL.Query().Get("$select")
	for k, v := range all {
		if sel == "" || k == "id" || containsFold(strings.Split(sel, ","), k) {
			out[k] = v
		}
	}
	if sel != "" {
		for _, k := range strings.Split(sel, ",") {
			if _, ok := all[strings.TrimSpace(k)]; !ok {
				writeError(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.user'.", k))
				return http.StatusBadRequest
			}
		}
	}
	writeJSON(w, out)
	return http.StatusOK
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

func (a *actionState) patchUser(w http.ResponseWriter, key string, body []byte) int {
	u := a.lookup(key)
	if u == nil {
		return notFound(w, key)
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(body, &props); err != nil || props == nil {
		writeError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid request body: a JSON object is required.")
		return http.StatusBadRequest
	}
	var enabled *bool
	for k, v := range props {
		switch k {
		case "@odata.type":
			var t string
			if json.Unmarshal(v, &t) != nil || t != "#microsoft.graph.user" {
				writeError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid @odata.type for a user: "+string(v))
				return http.StatusBadRequest
			}
		case "accountEnabled":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				writeError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid value for property 'accountEnabled': a boolean is required.")
				return http.StatusBadRequest
			}
			enabled = &b
		default:
			writeError(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Property '%s' does not exist (or is not writable here) on type 'microsoft.graph.user'.", k))
			return http.StatusBadRequest
		}
	}
	if enabled != nil {
		u.AccountEnabled = *enabled
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

func (a *actionState) riskAction(w http.ResponseWriter, op string, body []byte) int {
	var req map[string]json.RawMessage
	var ids []string
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		writeError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid request body: a JSON object is required.")
		return http.StatusBadRequest
	}
	for k := range req {
		if k != "userIds" {
			writeError(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Parameter '%s' is not supported by action '%s'.", k, op))
			return http.StatusBadRequest
		}
	}
	if err := json.Unmarshal(req["userIds"], &ids); err != nil || len(ids) == 0 {
		writeError(w, http.StatusBadRequest, "Request_BadRequest", "userIds: a non-empty array of user ids is required.")
		return http.StatusBadRequest
	}
	var found []*User
	for _, id := range ids {
		u := a.users[id] // object ids only, as Graph takes them here
		if u == nil {
			return notFound(w, id)
		}
		found = append(found, u)
	}
	for _, u := range found {
		if op == "confirmCompromised" {
			a.risks[u.ID] = risk{"confirmedCompromised", "high"}
		} else {
			a.risks[u.ID] = risk{"dismissed", "none"}
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}
