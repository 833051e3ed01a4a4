package http

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// routerRoutes walks the real router and returns "METHOD /pattern" keys.
func routerRoutes(t *testing.T) map[string]bool {
	t.Helper()
	routes, ok := (&Server{}).Handler().(chi.Routes)
	if !ok {
		t.Fatal("Server.Handler() is not a chi.Routes")
	}
	out := map[string]bool{}
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		// Sub-routers may leave "/*" suffixes or a trailing slash on their
		// patterns; the OpenAPI paths have neither.
		route = strings.TrimSuffix(route, "/*")
		if len(route) > 1 {
			route = strings.TrimSuffix(route, "/")
		}
		if route == "" || strings.HasSuffix(route, "*") {
			return nil
		}
		out[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatalf("chi.Walk: %v", err)
	}
	if len(out) == 0 {
		t.Fatal("chi.Walk found no routes")
	}
	return out
}

// documentRoutes returns "METHOD /path" keys of every operation in the document.
func documentRoutes(t *testing.T, doc map[string]any) map[string]bool {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal("openapi.json has no paths object")
	}
	out := map[string]bool{}
	for path, item := range paths {
		ops, ok := item.(map[string]any)
		if !ok {
			t.Errorf("path %s is not an object", path)
			continue
		}
		for key := range ops {
			if openAPIMethods[key] {
				out[strings.ToUpper(key)+" "+path] = true
			}
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	documented := documentRoutes(t, loadOpenAPI(t))
	for _, route := range sortedKeys(routerRoutes(t)) {
		if !documented[route] {
			t.Errorf("route %s is served but missing from openapi.json", route)
		}
	}
}

func TestOpenAPIHasNoUnservedRoutes(t *testing.T) {
	served := routerRoutes(t)
	for _, route := range sortedKeys(documentRoutes(t, loadOpenAPI(t))) {
		if !served[route] {
			t.Errorf("openapi.json documents %s, which the router does not serve", route)
		}
	}
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func TestOpenAPIDocumentIsWellFormed(t *testing.T) {
	doc := loadOpenAPI(t)
	if v, _ := doc["openapi"].(string); v != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", v)
	}

	// Every $ref points at something that exists in the document.
	var walk func(node any, at string)
	walk = func(node any, at string) {
		switch n := node.(type) {
		case map[string]any:
			for k, v := range n {
				if k == "$ref" {
					ref, _ := v.(string)
					if _, err := resolvePointer(doc, ref); err != "" {
						t.Errorf("%s: $ref %q: %s", at, ref, err)
					}
					continue
				}
				walk(v, at+"/"+k)
			}
		case []any:
			for _, v := range n {
				walk(v, at+"/[]")
			}
		}
	}
	walk(doc, "#")

	// Every operation has a summary and responses, and declares each path
	// parameter of its path.
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for method, raw := range ops {
			if !openAPIMethods[method] {
				continue
			}
			o, _ := raw.(map[string]any)
			name := strings.ToUpper(method) + " " + path
			if s, _ := o["summary"].(string); s == "" {
				t.Errorf("%s has no summary", name)
			}
			if r, _ := o["responses"].(map[string]any); len(r) == 0 {
				t.Errorf("%s has no responses", name)
			}
			declared := map[string]bool{}
			params, _ := o["parameters"].([]any)
			if common, ok := ops["parameters"].([]any); ok {
				params = append(params, common...)
			}
			for _, p := range params {
				pm, _ := p.(map[string]any)
				if ref, ok := pm["$ref"].(string); ok {
					resolved, _ := resolvePointer(doc, ref)
					pm, _ = resolved.(map[string]any)
				}
				if pm["in"] == "path" {
					n, _ := pm["name"].(string)
					declared[n] = true
				}
			}
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s does not declare path parameter %q", name, m[1])
				}
			}
		}
	}
}

// resolvePointer follows a local JSON pointer such as
// "#/components/schemas/Error"; the string is empty when it resolves.
func resolvePointer(doc map[string]any, ref string) (any, string) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, "not a local reference"
	}
	var node any = doc
	for _, part := range strings.Split(rest, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := node.(map[string]any)
		if !ok {
			return nil, "no such component"
		}
		if node, ok = m[part]; !ok {
			return nil, "no such component"
		}
	}
	return node, ""
}
