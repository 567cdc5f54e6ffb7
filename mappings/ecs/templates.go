package ecs

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed templates/*.json
var templateFS embed.FS

// Template kinds, and the Elasticsearch APIs that install them.
const (
	ComponentTemplate = "component" // PUT _component_template/<name>
	IndexTemplate     = "index"     // PUT _index_template/<name>
)

// Template is one artefact installed at start.
type Template struct {
	Kind string // ComponentTemplate or IndexTemplate
	Name string
	Body []byte // the JSON request body
}

// Path is the API path that installs the template.
func (t Template) Path() string {
	if t.Kind == ComponentTemplate {
		return "/_component_template/" + t.Name
	}
	return "/_index_template/" + t.Name
}

// Templates returns the templates in install order: component templates
// before the index templates composed of them. Files are named
// templates/<kind>-<name>.json.
//
//   - component castellan@mappings: explicit ECS mappings for every field the
//     documents of this package carry (labels.* map to keyword dynamically).
//   - index logs-castellan: data streams logs-castellan.*-* (alert, event,
//     finding, action), priority 200 over the built-in logs-*-* template,
//     composed of logs@mappings, logs@settings, castellan@mappings and the
//     optional logs@custom and castellan@custom.
//   - index castellan-incidents: the plain incident indices
//     castellan-incidents-*.
func Templates() []Template {
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		panic(fmt.Sprintf("ecs: embedded templates: %v", err))
	}
	var out []Template
	for _, e := range entries {
		base := strings.TrimSuffix(e.Name(), ".json")
		kind, name, ok := strings.Cut(base, "-")
		if !ok || (kind != ComponentTemplate && kind != IndexTemplate) {
			panic("ecs: badly named embedded template " + e.Name())
		}
		body, err := templateFS.ReadFile("templates/" + e.Name())
		if err != nil {
			panic(fmt.Sprintf("ecs: embedded template %s: %v", e.Name(), err))
		}
		out = append(out, Template{Kind: kind, Name: name, Body: body})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Kind == ComponentTemplate && out[j].Kind != ComponentTemplate
	})
	return out
}
