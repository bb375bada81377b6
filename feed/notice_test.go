package feed_test

import (
	"context"
	"testing"

	"github.com/patchcore/sdk/feed"
)

func TestNoticesReachTheInstalledFunction(t *testing.T) {
	var got []feed.Notice
	ctx := feed.WithNotices(context.Background(), func(n feed.Notice) { got = append(got, n) })
	feed.Notify(ctx, feed.Notice{Kind: feed.NoticeRecovered, File: "dsa.txt", Line: 7, ID: "DSA-1-1", Message: "malformed header skipped"})
	feed.Notify(context.Background(), feed.Notice{Kind: feed.NoticeNotCovered, Message: "dropped: no function installed"})
	if len(got) != 1 {
		t.Fatalf("got %d notices, want 1", len(got))
	}
	if s := got[0].String(); s != "dsa.txt:7: DSA-1-1: recovered: malformed header skipped" {
		t.Errorf("String() = %q", s)
	}
}
