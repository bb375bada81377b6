package rpmmeta

import (
	"os"
	"slices"
	"sync"
)

// UpdateInfoCache keeps the advisories of the updateinfo files an adapter
// read, so that a long-lived adapter (a plugin serving an agent) parses a
// repository's updateinfo once per change of the file instead of once per
// ListUpdates: parsing is most of the adapter's own work, tens of
// milliseconds for a few hundred advisories and far more for a vendor's
// full repository. A file is read again when it is another file (dnf and
// zypper replace metadata by renaming), or its size or modification time
// changed; entries of files that disappeared are dropped.
//
// The zero value is ready to use; it is safe for concurrent use (callers
// are serialised). The Index it returns is shared: read it, never modify
// it or the advisories it points to.
type UpdateInfoCache struct {
	mu    sync.Mutex
	files map[string]cachedUpdateInfo
	// last is the index built for lastKey, the files (and their state) of
	// the previous call.
	last    Index
	lastKey []cachedState
}

type cachedUpdateInfo struct {
	state cachedState
	advs  []Advisory
}

type cachedState struct {
	path string
	fi   os.FileInfo
}

func (s cachedState) same(o cachedState) bool {
	return s.path == o.path && os.SameFile(s.fi, o.fi) && s.fi.Size() == o.fi.Size() && s.fi.ModTime().Equal(o.fi.ModTime())
}

// Index returns the index of the advisories in the updateinfo files at
// paths (compressed or not, as ReadUpdateInfoFile reads them), in the
// order given. It reads only the files that changed since they were last
// read, and returns the previous index when no file did. An unreadable
// file is an error naming it.
func (c *UpdateInfoCache) Index(paths []string) (Index, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := make([]cachedState, 0, len(paths))
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		key = append(key, cachedState{path: p, fi: fi})
	}
	if c.last != nil && slices.EqualFunc(key, c.lastKey, cachedState.same) {
		return c.last, nil
	}
	if c.files == nil {
		c.files = make(map[string]cachedUpdateInfo)
	}
	var all []Advisory
	for _, st := range key {
		e, ok := c.files[st.path]
		if !ok || !e.state.same(st) {
			advs, err := ReadUpdateInfoFile(st.path)
			if err != nil {
				return nil, err
			}
			// The state from before the read: a file replaced meanwhile
			// differs from it, so the next call reads it again.
			// Clipped, so that a caller's append to a shared slice copies it.
			for i := range advs {
				advs[i].CVEs, advs[i].Packages = slices.Clip(advs[i].CVEs), slices.Clip(advs[i].Packages)
			}
			e = cachedUpdateInfo{state: st, advs: slices.Clip(advs)}
			c.files[st.path] = e
		}
		all = append(all, e.advs...)
	}
	for p := range c.files {
		if _, err := os.Stat(p); err != nil {
			delete(c.files, p)
		}
	}
	c.last, c.lastKey = NewIndex(all), key
	return c.last, nil
}
