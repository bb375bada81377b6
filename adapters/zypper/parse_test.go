package zypper

import (
	"os"
	"strings"
	"testing"
)

func TestParseXML(t *testing.T) {
	b, err := os.ReadFile("testdata/list-patches.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parseXML(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Updates) != 1 {
		t.Fatalf("patches = %+v", doc.Updates)
	}
	p := doc.Updates[0]
	if p.Kind != "patch" || p.Name != "PCSA-2024:0001" || p.Category != "security" || p.Severity != "important" ||
		p.Status != "needed" || len(p.Issues) != 1 || p.Issues[0].ID != "CVE-2024-12345" || p.IssueDate.TimeT == 0 {
		t.Errorf("patch = %+v", p)
	}
	b, _ = os.ReadFile("testdata/list-updates.xml")
	doc, err = parseXML(b)
	if err != nil || len(doc.Updates) != 1 || doc.Updates[0].EditionOld != "1.0-1" || doc.Updates[0].Edition != "1.1-1" || doc.Updates[0].Source.Alias != "local" {
		t.Errorf("list-updates = %+v, %v", doc.Updates, err)
	}
	if _, err := parseXML([]byte("<stream><update-status>")); err == nil {
		t.Error("truncated XML accepted")
	}
}

func TestParseLocks(t *testing.T) {
	locks := parseLocks([]byte("\ntype: package\nmatch_type: glob\ncase_sensitive: on\nsolvable_name: patchcore-hello\n\ntype: pattern\nsolvable_name: base\n\nsolvable_name: kernel-default\n"))
	if strings.Join(locks, ",") != "patchcore-hello,kernel-default" {
		t.Errorf("locks = %v", locks)
	}
}

func FuzzParseXML(f *testing.F) {
	b, _ := os.ReadFile("testdata/list-patches.xml")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = parseXML(b) })
}

func FuzzParseLocks(f *testing.F) {
	f.Add([]byte("type: package\nsolvable_name: a\n\nsolvable_name: b\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, n := range parseLocks(b) {
			if n == "" {
				t.Fatal("empty lock name")
			}
		}
	})
}
