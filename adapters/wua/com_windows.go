//go:build windows

package wua

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unsafe"

	ole "github.com/go-ole/go-ole"
	"github.com/go-ole/go-ole/oleutil"

	"github.com/patchcore/sdk/adapters/wua/internal/parse"
)

// SystemOpener returns the Opener of the machine's Windows Update Agent,
// reached through COM (Microsoft.Update.Session). Each session owns one OS
// thread initialised for COM, and every call runs there.
func SystemOpener() Opener {
	return func(ctx context.Context) (Session, error) {
		s := &comSession{calls: make(chan func(), 1), done: make(chan struct{})}
		ready := make(chan error, 1)
		go s.loop(ready)
		select {
		case err := <-ready:
			if err != nil {
				return nil, err
			}
		case <-ctx.Done():
			// The loop finishes starting and exits when Close is never called:
			// close it once it is up.
			go func() {
				if err := <-ready; err == nil {
					_ = s.Close()
				}
			}()
			return nil, ctx.Err()
		}
		return s, nil
	}
}

type comSession struct {
	calls   chan func()
	done    chan struct{}
	session *ole.IDispatch
}

// loop runs on a locked OS thread for the session's life.
func (s *comSession) loop(ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := ole.CoInitializeEx(0, ole.COINIT_MULTITHREADED); err != nil {
		var oe *ole.OleError
		// S_FALSE (already initialised) is fine.
		if !errors.As(err, &oe) || oe.Code() != 1 {
			ready <- fmt.Errorf("CoInitializeEx: %w", err)
			return
		}
	}
	defer ole.CoUninitialize()
	unk, err := oleutil.CreateObject("Microsoft.Update.Session")
	if err != nil {
		ready <- hresultErr("creating Microsoft.Update.Session", err)
		return
	}
	s.session, err = unk.QueryInterface(ole.IID_IDispatch)
	unk.Release()
	if err != nil {
		ready <- hresultErr("IUpdateSession", err)
		return
	}
	defer s.session.Release()
	_, _ = oleutil.PutProperty(s.session, "ClientApplicationID", "patchcore")
	ready <- nil
	for {
		select {
		case fn := <-s.calls:
			fn()
		case <-s.done:
			return
		}
	}
}

// do runs fn on the COM thread. When ctx ends first and wait is false, do
// returns ctx.Err() at once (fn still runs to its end, its result dropped);
// with wait it lets fn finish, so an install is never abandoned midway.
func (s *comSession) do(ctx context.Context, wait bool, fn func() error) error {
	result := make(chan error, 1)
	select {
	case s.calls <- func() { result <- fn() }:
	case <-ctx.Done():
		return ctx.Err()
	}
	if wait {
		err := <-result
		if err == nil && ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *comSession) Close() error {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	return nil
}

// hresultErr turns a go-ole error into an *parse.HResultError, taking the
// SCODE of a DISP_E_EXCEPTION's EXCEPINFO when there is one.
func hresultErr(op string, err error) error {
	var oe *ole.OleError
	if !errors.As(err, &oe) {
		return fmt.Errorf("%s: %w", op, err)
	}
	code := uint32(oe.Code())
	if sub, ok := oe.SubError().(ole.EXCEPINFO); ok && sub.SCODE() != 0 {
		code = sub.SCODE()
	} else if sub, ok := oe.SubError().(*ole.EXCEPINFO); ok && sub != nil && sub.SCODE() != 0 {
		code = sub.SCODE()
	}
	return &parse.HResultError{Op: op, HResult: int32(code)}
}

// get reads a property, returning the variant (caller clears it).
func get(d *ole.IDispatch, name string, args ...interface{}) (*ole.VARIANT, error) {
	v, err := oleutil.GetProperty(d, name, args...)
	if err != nil {
		return nil, hresultErr("reading "+name, err)
	}
	return v, nil
}

func getString(d *ole.IDispatch, name string) string {
	v, err := get(d, name)
	if err != nil {
		return ""
	}
	defer v.Clear()
	if v.VT != ole.VT_BSTR {
		return ""
	}
	return v.ToString()
}

func getInt(d *ole.IDispatch, name string) int64 {
	v, err := get(d, name)
	if err != nil {
		return 0
	}
	defer v.Clear()
	return variantInt(v)
}

func variantInt(v *ole.VARIANT) int64 {
	if v.VT == ole.VT_DECIMAL {
		// DECIMAL overlays the VARIANT: scale, sign, Hi32, Lo64.
		b := (*[16]byte)(unsafe.Pointer(v))
		if b[2] != 0 || binary.LittleEndian.Uint32(b[4:8]) != 0 {
			return 0
		}
		n := int64(binary.LittleEndian.Uint64(b[8:16]))
		if b[3]&0x80 != 0 {
			n = -n
		}
		return n
	}
	switch x := v.Value().(type) {
	case int8:
		return int64(x)
	case uint8:
		return int64(x)
	case int16:
		return int64(x)
	case uint16:
		return int64(x)
	case int32:
		return int64(x)
	case uint32:
		return int64(x)
	case int64:
		return x
	case uint64:
		return int64(x)
	case int:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

func getBool(d *ole.IDispatch, name string) bool {
	v, err := get(d, name)
	if err != nil {
		return false
	}
	defer v.Clear()
	b, _ := v.Value().(bool)
	return b
}

func getTime(d *ole.IDispatch, name string) time.Time {
	v, err := get(d, name)
	if err != nil {
		return time.Time{}
	}
	defer v.Clear()
	t, _ := v.Value().(time.Time)
	return t
}

// getObject reads a property holding an object; the caller releases it.
func getObject(d *ole.IDispatch, name string, args ...interface{}) (*ole.IDispatch, error) {
	v, err := get(d, name, args...)
	if err != nil {
		return nil, err
	}
	obj := v.ToIDispatch()
	if obj == nil {
		return nil, &parse.HResultError{Op: "reading " + name + ": not an object", HResult: -2147467259} // E_FAIL
	}
	return obj, nil
}

// forEach walks a COM collection (Count and Item(i)).
func forEach(coll *ole.IDispatch, fn func(item *ole.VARIANT) error) error {
	n := getInt(coll, "Count")
	for i := int64(0); i < n; i++ {
		v, err := get(coll, "Item", int32(i))
		if err != nil {
			return err
		}
		err = fn(v)
		v.Clear()
		if err != nil {
			return err
		}
	}
	return nil
}

func stringCollection(d *ole.IDispatch, name string) []string {
	coll, err := getObject(d, name)
	if err != nil {
		return nil
	}
	defer coll.Release()
	var out []string
	_ = forEach(coll, func(v *ole.VARIANT) error {
		if v.VT == ole.VT_BSTR {
			out = append(out, v.ToString())
		}
		return nil
	})
	return out
}

// searcher creates an IUpdateSearcher set up for q; cleanup undoes an
// offline scan service.
func (s *comSession) searcher(q Query) (*ole.IDispatch, func(), error) {
	v, err := oleutil.CallMethod(s.session, "CreateUpdateSearcher")
	if err != nil {
		return nil, nil, hresultErr("CreateUpdateSearcher", err)
	}
	searcher := v.ToIDispatch()
	cleanup := func() { searcher.Release() }
	server, serviceID := q.Server, q.ServiceID
	if q.OfflineCab != "" {
		unk, err := oleutil.CreateObject("Microsoft.Update.ServiceManager")
		if err != nil {
			cleanup()
			return nil, nil, hresultErr("creating Microsoft.Update.ServiceManager", err)
		}
		manager, err := unk.QueryInterface(ole.IID_IDispatch)
		unk.Release()
		if err != nil {
			cleanup()
			return nil, nil, hresultErr("IUpdateServiceManager", err)
		}
		sv, err := oleutil.CallMethod(manager, "AddScanPackageService", "patchcore offline scan", q.OfflineCab, int32(1))
		if err != nil {
			manager.Release()
			cleanup()
			return nil, nil, hresultErr("AddScanPackageService "+q.OfflineCab, err)
		}
		service := sv.ToIDispatch()
		serviceID = getString(service, "ServiceID")
		service.Release()
		server = ServerOthers
		_, _ = oleutil.PutProperty(searcher, "Online", false)
		prev := cleanup
		cleanup = func() {
			_, _ = oleutil.CallMethod(manager, "RemoveService", serviceID)
			manager.Release()
			prev()
		}
	}
	if _, err := oleutil.PutProperty(searcher, "ServerSelection", int32(server)); err != nil {
		cleanup()
		return nil, nil, hresultErr("setting ServerSelection", err)
	}
	if server == ServerOthers {
		if _, err := oleutil.PutProperty(searcher, "ServiceID", serviceID); err != nil {
			cleanup()
			return nil, nil, hresultErr("setting ServiceID", err)
		}
	}
	return searcher, cleanup, nil
}

// searchRaw runs a search and calls fn for every IUpdate found.
func (s *comSession) searchRaw(q Query, fn func(u *ole.IDispatch) error) error {
	searcher, cleanup, err := s.searcher(q)
	if err != nil {
		return err
	}
	defer cleanup()
	rv, err := oleutil.CallMethod(searcher, "Search", q.Criteria)
	if err != nil {
		return hresultErr("IUpdateSearcher.Search("+q.Criteria+")", err)
	}
	result := rv.ToIDispatch()
	defer result.Release()
	updates, err := getObject(result, "Updates")
	if err != nil {
		return err
	}
	defer updates.Release()
	return forEach(updates, func(v *ole.VARIANT) error { return fn(v.ToIDispatch()) })
}

func readUpdate(u *ole.IDispatch) UpdateInfo {
	info := UpdateInfo{
		Title: getString(u, "Title"), MsrcSeverity: getString(u, "MsrcSeverity"),
		MaxDownloadSize: getInt(u, "MaxDownloadSize"), IsDownloaded: getBool(u, "IsDownloaded"),
		IsInstalled: getBool(u, "IsInstalled"), IsHidden: getBool(u, "IsHidden"), Type: int(getInt(u, "Type")),
		LastDeploymentChangeTime: getTime(u, "LastDeploymentChangeTime"),
		KBArticleIDs:             stringCollection(u, "KBArticleIDs"),
		CVEIDs:                   stringCollection(u, "CveIDs"),
		SupersededUpdateIDs:      stringCollection(u, "SupersededUpdateIDs"),
	}
	if id, err := getObject(u, "Identity"); err == nil {
		info.UpdateID = strings.ToLower(getString(id, "UpdateID"))
		info.RevisionNumber = int(getInt(id, "RevisionNumber"))
		id.Release()
	}
	if ib, err := getObject(u, "InstallationBehavior"); err == nil {
		info.RebootBehavior = int(getInt(ib, "RebootBehavior"))
		ib.Release()
	}
	if cats, err := getObject(u, "Categories"); err == nil {
		_ = forEach(cats, func(v *ole.VARIANT) error {
			c := v.ToIDispatch()
			info.CategoryIDs = append(info.CategoryIDs, strings.ToUpper(getString(c, "CategoryID")))
			info.CategoryNames = append(info.CategoryNames, getString(c, "Name"))
			return nil
		})
		cats.Release()
	}
	return info
}

func (s *comSession) Search(ctx context.Context, q Query) ([]UpdateInfo, error) {
	var out []UpdateInfo
	err := s.do(ctx, false, func() error {
		return s.searchRaw(q, func(u *ole.IDispatch) error {
			out = append(out, readUpdate(u))
			return nil
		})
	})
	return out, err
}

// collectionOf finds the update and returns an IUpdateCollection holding it.
func (s *comSession) collectionOf(updateID string, q Query) (*ole.IDispatch, error) {
	unk, err := oleutil.CreateObject("Microsoft.Update.UpdateColl")
	if err != nil {
		return nil, hresultErr("creating Microsoft.Update.UpdateColl", err)
	}
	coll, err := unk.QueryInterface(ole.IID_IDispatch)
	unk.Release()
	if err != nil {
		return nil, hresultErr("IUpdateCollection", err)
	}
	q.Criteria = "UpdateID='" + updateID + "'"
	found := false
	err = s.searchRaw(q, func(u *ole.IDispatch) error {
		if !getBool(u, "EulaAccepted") {
			if _, err := oleutil.CallMethod(u, "AcceptEula"); err != nil {
				return hresultErr("AcceptEula", err)
			}
		}
		if _, err := oleutil.CallMethod(coll, "Add", u); err != nil {
			return hresultErr("IUpdateCollection.Add", err)
		}
		found = true
		return nil
	})
	if err == nil && !found {
		err = &parse.HResultError{Op: "finding update " + updateID, HResult: -2145124329} // WU_E_NOT_APPLICABLE
	}
	if err != nil {
		coll.Release()
		return nil, err
	}
	return coll, nil
}

// operate runs a downloader or installer over one update.
func (s *comSession) operate(ctx context.Context, updateID string, q Query, create, run string, install bool) (OperationResult, error) {
	var res OperationResult
	err := s.do(ctx, true, func() error {
		coll, err := s.collectionOf(updateID, q)
		if err != nil {
			return err
		}
		defer coll.Release()
		v, err := oleutil.CallMethod(s.session, create)
		if err != nil {
			return hresultErr(create, err)
		}
		op := v.ToIDispatch()
		defer op.Release()
		if _, err := oleutil.PutProperty(op, "Updates", coll); err != nil {
			return hresultErr("setting Updates", err)
		}
		rv, err := oleutil.CallMethod(op, run)
		if err != nil {
			return hresultErr(run, err)
		}
		result := rv.ToIDispatch()
		defer result.Release()
		res.ResultCode, res.HResult = int(getInt(result, "ResultCode")), int32(getInt(result, "HResult"))
		if install {
			res.RebootRequired = getBool(result, "RebootRequired")
		}
		if ur, err := oleutil.CallMethod(result, "GetUpdateResult", int32(0)); err == nil {
			one := ur.ToIDispatch()
			res.ResultCode, res.HResult = int(getInt(one, "ResultCode")), int32(getInt(one, "HResult"))
			if install {
				res.RebootRequired = res.RebootRequired || getBool(one, "RebootRequired")
			}
			one.Release()
		}
		return nil
	})
	return res, err
}

func (s *comSession) Download(ctx context.Context, updateID string, q Query) (OperationResult, error) {
	return s.operate(ctx, updateID, q, "CreateUpdateDownloader", "Download", false)
}

func (s *comSession) Install(ctx context.Context, updateID string, q Query) (OperationResult, error) {
	return s.operate(ctx, updateID, q, "CreateUpdateInstaller", "Install", true)
}

func (s *comSession) History(ctx context.Context) ([]HistoryEntry, error) {
	var out []HistoryEntry
	err := s.do(ctx, false, func() error {
		searcher, cleanup, err := s.searcher(Query{})
		if err != nil {
			return err
		}
		defer cleanup()
		v, err := oleutil.CallMethod(searcher, "GetTotalHistoryCount")
		if err != nil {
			return hresultErr("GetTotalHistoryCount", err)
		}
		total := variantInt(v)
		if total == 0 {
			return nil
		}
		hv, err := oleutil.CallMethod(searcher, "QueryHistory", int32(0), int32(total))
		if err != nil {
			return hresultErr("QueryHistory", err)
		}
		hist := hv.ToIDispatch()
		defer hist.Release()
		return forEach(hist, func(v *ole.VARIANT) error {
			e := v.ToIDispatch()
			entry := HistoryEntry{
				Title: getString(e, "Title"), Operation: int(getInt(e, "Operation")),
				ResultCode: int(getInt(e, "ResultCode")), HResult: int32(getInt(e, "HResult")), Date: getTime(e, "Date"),
			}
			if id, err := getObject(e, "UpdateIdentity"); err == nil {
				entry.UpdateID = strings.ToLower(getString(id, "UpdateID"))
				id.Release()
			}
			out = append(out, entry)
			return nil
		})
	})
	return out, err
}

func (s *comSession) RebootRequired(ctx context.Context) (bool, error) {
	var required bool
	err := s.do(ctx, false, func() error {
		unk, err := oleutil.CreateObject("Microsoft.Update.SystemInfo")
		if err != nil {
			return hresultErr("creating Microsoft.Update.SystemInfo", err)
		}
		info, err := unk.QueryInterface(ole.IID_IDispatch)
		unk.Release()
		if err != nil {
			return hresultErr("ISystemInformation", err)
		}
		defer info.Release()
		required = getBool(info, "RebootRequired")
		return nil
	})
	return required, err
}

// quickFixQuery is the WQL Inventory runs against root\cimv2.
const quickFixQuery = "SELECT HotFixID, Description, InstalledOn FROM Win32_QuickFixEngineering"

// QuickFixes queries WMI (WbemScripting.SWbemLocator, root\cimv2) on the
// session's COM thread.
func (s *comSession) QuickFixes(ctx context.Context) ([]QuickFix, error) {
	var out []QuickFix
	err := s.do(ctx, false, func() error {
		unk, err := oleutil.CreateObject("WbemScripting.SWbemLocator")
		if err != nil {
			return hresultErr("creating WbemScripting.SWbemLocator", err)
		}
		locator, err := unk.QueryInterface(ole.IID_IDispatch)
		unk.Release()
		if err != nil {
			return hresultErr("ISWbemLocator", err)
		}
		defer locator.Release()
		sv, err := oleutil.CallMethod(locator, "ConnectServer", ".", `root\cimv2`)
		if err != nil {
			return hresultErr(`SWbemLocator.ConnectServer(".", "root\cimv2")`, err)
		}
		service := sv.ToIDispatch()
		defer service.Release()
		rv, err := oleutil.CallMethod(service, "ExecQuery", quickFixQuery)
		if err != nil {
			return hresultErr("SWbemServices.ExecQuery("+quickFixQuery+")", err)
		}
		result := rv.ToIDispatch()
		defer result.Release()
		// SWbemObjectSet.Item takes an object path; ItemIndex takes the index.
		n := getInt(result, "Count")
		for i := int64(0); i < n; i++ {
			v, err := oleutil.CallMethod(result, "ItemIndex", int32(i))
			if err != nil {
				return hresultErr("SWbemObjectSet.ItemIndex", err)
			}
			q := v.ToIDispatch()
			out = append(out, QuickFix{
				HotFixID: getString(q, "HotFixID"), Description: getString(q, "Description"),
				InstalledOn: getString(q, "InstalledOn"),
			})
			v.Clear()
		}
		return nil
	})
	return out, err
}
