package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestArchitectureRules keeps the dependency rules of docs/architecture.md:
// media knows nothing of signalling or the database, only storage imports
// gorm, and the leaf packages stay leaves. It reads the real import graph.
func TestArchitectureRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Deps \" \"}}", "github.com/nvr/nvr/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/nvr/nvr/"
	type rule struct {
		pkgPrefix string
		forbidden []string // import path prefixes, transitive
		why       string
	}
	rules := []rule{
		{mod + "media/", []string{mod + "sip", mod + "device", mod + "storage", mod + "web", mod + "config", "gorm.io/"}, "the media core knows nothing about signalling, the domain or the database"},
		{mod + "sip", []string{mod + "media", mod + "storage", mod + "web", "gorm.io/"}, "sip speaks to the rest through interfaces it declares"},
		{mod + "device", []string{mod + "media", mod + "storage", mod + "web", "gorm.io/"}, "device declares the interfaces it needs"},
		{mod + "web", []string{mod + "storage", "gorm.io/"}, "storage is the only package that imports gorm"},
		{mod + "config", []string{mod}, "config depends on nothing of ours"},
		{mod + "migrations", []string{mod}, "migrations are plain embedded files"},
		{mod + "media/unit", []string{mod}, "the access unit is a leaf"},
		{mod + "media/stream", []string{mod + "media/codec", mod + "media/ingest", mod + "media/egress", mod + "media/hub"}, "the stream does no network I/O and no muxing"},
		{mod + "media/codec/", []string{mod + "media/stream", mod + "media/ingest", mod + "media/egress", mod + "media/hub"}, "codecs are pure"},
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, "|")
		if strings.HasPrefix(pkg, mod+"cmd/") {
			continue
		}
		for _, r := range rules {
			if pkg != strings.TrimSuffix(r.pkgPrefix, "/") && !strings.HasPrefix(pkg, r.pkgPrefix) {
				continue
			}
			checked++
			for _, d := range strings.Fields(deps) {
				for _, f := range r.forbidden {
					if strings.HasPrefix(d, f) {
						t.Errorf("%s imports %s: %s", pkg, d, r.why)
					}
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d packages checked: is the module path right?", checked)
	}
}
