package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// TestREADMELinksFindTheirSections: every link of README.md to one of its
// own sections (#anchor, as GitHub names them) finds one, so the table of
// contents stays right when sections are renamed, moved or added.
func TestREADMELinksFindTheirSections(t *testing.T) {
	md, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	inCode := false
	for _, line := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " "), "```") {
			inCode = !inCode
		}
		if h, ok := strings.CutPrefix(line, "#"); ok && !inCode {
			anchors[slug(strings.TrimLeft(h, "# "))] = true
		}
	}
	links := regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(string(md), -1)
	if len(links) < 10 {
		t.Fatalf("README.md has %d links to its sections; the table of contents alone has more", len(links))
	}
	for _, m := range links {
		if !anchors[m[1]] {
			t.Errorf("README.md links to #%s, which no heading is", m[1])
		}
	}
}

// slug is GitHub's anchor of a heading: lower case, spaces to hyphens, and
// only letters, digits, hyphens and underscores kept.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
