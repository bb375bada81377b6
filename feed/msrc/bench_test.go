package msrc_test

import (
	"os"
	"strings"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/internal/feedtest"
	"github.com/patchcore/sdk/feed/msrc"
)

func benchParse(b *testing.B, f feed.Format, data []byte) { feedtest.Bench(b, f, data) }

func BenchmarkCVRF(b *testing.B) {
	data, err := os.ReadFile(feedtest.Shared(b, "microsoft/cvrfDocument-2024-Jan.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Jan2024", func(b *testing.B) { benchParse(b, msrc.CVRF{}, data) })
	// A 47 MB document of the same shape: the vulnerabilities repeated 30 times.
	s := string(data)
	i, j := strings.Index(s, "<vuln:Vulnerability"), strings.LastIndex(s, "</cvrf:cvrfdoc>")
	big := s[:i] + strings.Repeat(s[i:j], 30) + s[j:]
	b.Run("generated47MB", func(b *testing.B) { benchParse(b, msrc.CVRF{}, []byte(big)) })
}

func BenchmarkCSAF(b *testing.B) {
	data, err := os.ReadFile("testdata/msrc_cve-2024-21338.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fixture", func(b *testing.B) { benchParse(b, msrc.CSAF{}, data) })
	s := string(data)
	i := strings.Index(s, `"vulnerabilities": [`) + len(`"vulnerabilities": [`)
	j := strings.LastIndex(s, "]")
	vuln := s[i:j]
	big := s[:i] + strings.Repeat(vuln+",", 5000) + vuln + s[j:]
	b.Run("generated14MB", func(b *testing.B) { benchParse(b, msrc.CSAF{}, []byte(big)) })
}
