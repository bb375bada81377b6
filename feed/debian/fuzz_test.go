package debian

import (
	"errors"
	"os"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/internal/samples"
)

// fuzzFormat checks that f never panics and fails only with a *feed.ParseError.
func fuzzFormat(f *testing.F, format feed.Format, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		format.Detect(b)
		_, err := parseBytes(format, b)
		var pe *feed.ParseError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *feed.ParseError", err, err)
		}
	})
}

func readSeed(f *testing.F, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return b
}

func FuzzTracker(f *testing.F) {
	fuzzFormat(f, Tracker{},
		readSeed(f, samples.Path(f, "debian/security-tracker-subset.json")),
		[]byte(`{"p":{"CVE-1":{"scope":"local","debianbug":1,"releases":{"sid":{"status":"open","urgency":"low**"}}}}}`),
		[]byte(`{"p":{"CVE-1":{"releases":[]}}}`))
}

func FuzzDebsecan(f *testing.F) {
	fuzzFormat(f, Debsecan{},
		readSeed(f, samples.Path(f, "debsecan/001.sid")),
		[]byte("VERSION 1\nCVE-1,,desc\n\npkg,0,SMRF,1.0-1,0.9 0.8\nbin,0,BL?F,,\n\npkg,pkg bin\n"),
		zlibBytes("VERSION 1\nCVE-1,,d\n\npkg,0,S  ,,\n"))
}

func FuzzAdvisoryList(f *testing.F) {
	fuzzFormat(f, AdvisoryList{},
		readSeed(f, "testdata/DSA.list"),
		readSeed(f, "testdata/DLA.list"))
}
