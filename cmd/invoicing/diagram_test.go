package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestSystemDiagramIsCurrent keeps docs/system.svg, the picture the README
// shows, rendered from the first mermaid block of docs/architecture.md: the
// SVG records the SHA-256 of the block it was rendered from.
func TestSystemDiagramIsCurrent(t *testing.T) {
	md, err := os.ReadFile("../../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeBlocks(string(md))
	if err != nil {
		t.Fatalf("docs/architecture.md: %v", err)
	}
	var source string
	for _, b := range blocks {
		if b.info == "mermaid" {
			source = b.text
			break
		}
	}
	if source == "" {
		t.Fatal("docs/architecture.md has no mermaid block")
	}
	svg, err := os.ReadFile("../../docs/system.svg")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`mermaid source sha256: ([0-9a-f]{64})`).FindSubmatch(svg)
	sum := sha256.Sum256([]byte(source))
	if m == nil || string(m[1]) != hex.EncodeToString(sum[:]) {
		t.Errorf("docs/system.svg was not rendered from the first mermaid block of docs/architecture.md: run tools/diagram/render.sh")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "(docs/system.svg)") {
		t.Error("README.md does not show docs/system.svg")
	}
}
