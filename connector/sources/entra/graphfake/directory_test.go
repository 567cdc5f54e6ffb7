package graphfake

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestDirectoryQueries(t *testing.T) {
	s := New()
	defer s.Close()
	if err := s.AddDirectory(RoleAssignments, map[string]any{"id": "a1", "principalId": "p1", "roleDefinitionId": "r1",
		"principal": map[string]any{"id": "p1", "displayName": "P"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddDirectory(Users, map[string]any{"displayName": "no id"}); err == nil {
		t.Error("object without id accepted")
	}
	if err := s.AddDirectory("groups", map[string]any{"id": "g"}); err == nil {
		t.Error("unknown path accepted")
	}
	get := func(query string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/"+RoleAssignments+query, nil)
		req.Header.Set("Authorization", "Bearer t")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	first := func(body map[string]any) map[string]any {
		v, _ := body["value"].([]any)
		if len(v) != 1 {
			t.Fatalf("value = %v", body["value"])
		}
		return v[0].(map[string]any)
	}
	if _, b := get(""); first(b)["principal"] != nil {
		t.Error("principal served without $expand")
	}
	if _, b := get("?$expand=principal"); first(b)["principal"] == nil {
		t.Error("principal missing with $expand=principal")
	}
	if _, b := get("?$select=principalId"); len(first(b)) != 2 || first(b)["id"] != "a1" {
		t.Errorf("$select=principalId kept %v, want id and principalId", first(b))
	}
	for q, want := range map[string]int{"?$top=5": 400, "?$filter=x": 400, "?$expand=roleDefinitionX": 400, "?$skiptoken=nope": 400} {
		if status, b := get(q); status != want || b["error"] == nil {
			t.Errorf("%s: %d %v, want %d with an error envelope", q, status, b, want)
		}
	}
	s.FailDirectory(RoleAssignments, 403, "Forbidden", "no")
	if status, _ := get(""); status != 403 {
		t.Errorf("FailDirectory: %d", status)
	}
}
