// Package orchestratorcheck is a go/analysis pass that reports code which
// makes an Endure orchestrator non-deterministic: reading the clock,
// sleeping, goroutines, select, map iteration, random numbers and direct
// I/O. Each report says what to use instead.
//
// # What is an orchestrator
//
// A function or method whose first parameter is *workflow.Context
// (github.com/endurehq/endure/workflow), and any function literal of that
// shape, such as one passed to workflow.Register. The whole body is checked,
// including nested function literals (closures, deferred functions), since
// they run as part of the orchestrator, except a nested literal whose first
// parameter is a context.Context: that is an activity, which may do all of
// these things. Functions that an orchestrator calls are not followed; give
// a helper a *workflow.Context parameter first and it is checked too.
//
// # What is reported
//
//   - time.Now, time.Since, time.Until: use ctx.Now() (workflow.Context.Now).
//   - time.Sleep, time.After, time.Tick, time.NewTimer, time.NewTicker,
//     time.AfterFunc: use workflow.CreateTimer.
//   - go statements: use workflow.CallActivity with workflow.Any or
//     workflow.All.
//   - select statements: use workflow.Any.
//   - range over a map (or over maps.Keys, maps.Values, maps.All): sort the
//     keys first.
//   - any use of math/rand, math/rand/v2 or crypto/rand: use ctx.NewGUID,
//     or get random values from an activity.
//   - calls of functions and methods of os, os/exec, net, net/http,
//     io/ioutil and database/sql: do I/O in an activity. A few pure helpers
//     (os.IsNotExist, net.ParseIP, http.StatusText, methods of http.Header,
//     net.IP and the like) are allowed.
//
// The pass never reports code outside orchestrators, so activities and
// workers are free to do all of this.
package orchestratorcheck

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

// workflowPkg is the import path of Endure's workflow SDK.
const workflowPkg = "github.com/endurehq/endure/workflow"

// Analyzer reports non-deterministic code in orchestrator functions.
var Analyzer = &analysis.Analyzer{
	Name: "orchestratorcheck",
	Doc: "report non-deterministic code in Endure orchestrator functions\n\n" +
		"Orchestrators (functions whose first parameter is *workflow.Context) are replayed " +
		"from their history and must take the same actions every time. This pass reports " +
		"time.Now, time.Sleep and other clock reads and waits, go and select statements, " +
		"ranging over maps, math/rand, math/rand/v2 and crypto/rand, and direct I/O " +
		"(os, os/exec, net, net/http, io/ioutil, database/sql) inside them.",
	URL: "https://pkg.go.dev/github.com/endurehq/endure/analysis/orchestratorcheck",
	Run: run,
}

func run(pass *analysis.Pass) (any, error) {
	c := &checker{pass: pass, registered: map[*ast.FuncLit]string{}, reported: map[*ast.Ident]bool{}}
	for _, f := range pass.Files {
		ast.Walk(&visitor{c: c}, f)
	}
	return nil, nil
}

// checker holds what the pass learns while walking a package.
type checker struct {
	pass *analysis.Pass
	// registered names the function literals passed to workflow.Register.
	registered map[*ast.FuncLit]string
	// reported holds identifiers already reported through their selector.
	reported map[*ast.Ident]bool
}

// visitor walks the syntax tree; orchestrator names the orchestrator whose
// body it is in, or is empty outside orchestrators.
type visitor struct {
	c            *checker
	orchestrator string
}

func (v *visitor) Visit(n ast.Node) ast.Visitor {
	switch n := n.(type) {
	case nil:
		return nil
	case *ast.FuncDecl:
		if v.c.isOrchestrator(n.Type) {
			return &visitor{c: v.c, orchestrator: n.Name.Name}
		}
		return &visitor{c: v.c}
	case *ast.FuncLit:
		switch {
		case v.c.isOrchestrator(n.Type):
			name, ok := v.c.registered[n]
			if !ok {
				name = "function literal"
				if v.orchestrator != "" {
					name = v.orchestrator + " (function literal)"
				}
			}
			return &visitor{c: v.c, orchestrator: name}
		case v.c.isActivity(n.Type):
			return &visitor{c: v.c}
		}
	case *ast.CallExpr:
		v.c.noteRegister(n)
	}
	if v.orchestrator != "" {
		v.c.check(n, v.orchestrator)
	}
	return v
}

// firstParam returns the type of a function's first parameter, or nil.
func (c *checker) firstParam(ft *ast.FuncType) types.Type {
	if ft.Params == nil || len(ft.Params.List) == 0 {
		return nil
	}
	return c.pass.TypesInfo.TypeOf(ft.Params.List[0].Type)
}

// isOrchestrator reports whether a function's first parameter is
// *workflow.Context.
func (c *checker) isOrchestrator(ft *ast.FuncType) bool {
	ptr, ok := types.Unalias(c.firstParam(ft)).(*types.Pointer)
	if !ok {
		return false
	}
	named, ok := types.Unalias(ptr.Elem()).(*types.Named)
	if !ok {
		return false
	}
	obj := named.Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == workflowPkg && obj.Name() == "Context"
}

// isActivity reports whether a function's first parameter is a
// context.Context.
func (c *checker) isActivity(ft *ast.FuncType) bool {
	named, ok := types.Unalias(c.firstParam(ft)).(*types.Named)
	if !ok {
		return false
	}
	obj := named.Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == "context" && obj.Name() == "Context"
}

// noteRegister remembers the name a function literal is registered under
// by workflow.Register, for the reports about it.
func (c *checker) noteRegister(call *ast.CallExpr) {
	fn, ok := typeutil.Callee(c.pass.TypesInfo, call).(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != workflowPkg || fn.Name() != "Register" || len(call.Args) < 3 {
		return
	}
	lit, ok := ast.Unparen(call.Args[2]).(*ast.FuncLit)
	if !ok {
		return
	}
	if tv, ok := c.pass.TypesInfo.Types[call.Args[1]]; ok && tv.Value != nil && tv.Value.Kind() == constant.String {
		c.registered[lit] = constant.StringVal(tv.Value)
	}
}

// check reports n if it is non-deterministic.
func (c *checker) check(n ast.Node, orch string) {
	info := c.pass.TypesInfo
	switch n := n.(type) {
	case *ast.GoStmt:
		c.pass.Reportf(n.Pos(), "go statement in orchestrator %s: orchestrator code must run on one goroutine; "+
			"run concurrent work as activities (workflow.CallActivity) and wait with workflow.Any or workflow.All", orch)
	case *ast.SelectStmt:
		c.pass.Reportf(n.Pos(), "select statement in orchestrator %s: channels are not replayed; "+
			"wait for the first of several tasks with workflow.Any", orch)
	case *ast.RangeStmt:
		if what := mapRange(info, n.X); what != "" {
			c.pass.Reportf(n.Pos(), "range over %s in orchestrator %s: map order differs on every run and replay; "+
				"range over sorted keys instead, e.g. slices.Sorted(maps.Keys(m))", what, orch)
		}
	case *ast.SelectorExpr:
		// Reported here so that the position is that of "time.Now", not "Now".
		if c.checkIdent(n.Sel, n, orch) {
			c.reported[n.Sel] = true
		}
	case *ast.Ident:
		if !c.reported[n] {
			c.checkIdent(n, n, orch)
		}
	case *ast.CallExpr:
		c.checkCall(n, orch)
	}
}

// mapRange describes what a range statement ranges over if its order is a
// map's, or returns "".
func mapRange(info *types.Info, x ast.Expr) string {
	if _, ok := info.TypeOf(x).Underlying().(*types.Map); ok {
		return "a map"
	}
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return ""
	}
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "maps" {
		return ""
	}
	switch fn.Name() {
	case "Keys", "Values", "All":
		return "maps." + fn.Name()
	}
	return ""
}

// clockFuncs are the functions of package time that read the clock or wait,
// with what to use instead.
var clockFuncs = map[string]string{
	"Now":       "use ctx.Now() (workflow.Context.Now), which returns the same time on every replay",
	"Since":     "compute with ctx.Now() (workflow.Context.Now), which returns the same time on every replay",
	"Until":     "compute with ctx.Now() (workflow.Context.Now), which returns the same time on every replay",
	"Sleep":     "wait with workflow.CreateTimer(ctx, d).Await(), a durable timer",
	"After":     "use workflow.CreateTimer, a durable timer, and wait with workflow.Any",
	"Tick":      "use workflow.CreateTimer in a loop, a durable timer",
	"NewTimer":  "use workflow.CreateTimer, a durable timer",
	"NewTicker": "use workflow.CreateTimer in a loop, a durable timer",
	"AfterFunc": "use workflow.CreateTimer, a durable timer",
}

// randPkgs are the packages whose every use is non-deterministic.
var randPkgs = map[string]bool{"math/rand": true, "math/rand/v2": true, "crypto/rand": true}

// checkIdent reports a use of the clock or of random numbers through id,
// at the position of at, and reports whether it did.
func (c *checker) checkIdent(id *ast.Ident, at ast.Node, orch string) bool {
	obj := c.pass.TypesInfo.Uses[id]
	if obj == nil || obj.Pkg() == nil {
		return false
	}
	if _, ok := obj.(*types.PkgName); ok {
		return false
	}
	path := obj.Pkg().Path()
	switch {
	case path == "time":
		fn, ok := obj.(*types.Func)
		if !ok || fn.Signature().Recv() != nil {
			return false
		}
		if instead, ok := clockFuncs[fn.Name()]; ok {
			c.pass.Reportf(at.Pos(), "time.%s in orchestrator %s is not deterministic: %s", fn.Name(), orch, instead)
			return true
		}
	case randPkgs[path]:
		c.pass.Reportf(at.Pos(), "%s (%s) in orchestrator %s is not deterministic: "+
			"use ctx.NewGUID (workflow.Context.NewGUID) for unique IDs, or get random values from an activity", path, id.Name, orch)
		return true
	}
	return false
}

// ioPkgs are the packages whose functions and methods do I/O.
var ioPkgs = map[string]bool{
	"os": true, "os/exec": true, "net": true, "net/http": true, "io/ioutil": true, "database/sql": true,
}

// pureFuncs are functions of ioPkgs that do no I/O.
var pureFuncs = map[string]bool{
	"os.IsExist": true, "os.IsNotExist": true, "os.IsPermission": true, "os.IsTimeout": true, "os.NewSyscallError": true,
	"net.ParseIP": true, "net.ParseCIDR": true, "net.ParseMAC": true, "net.JoinHostPort": true, "net.SplitHostPort": true,
	"net.IPv4": true, "net.IPv4Mask": true, "net.CIDRMask": true,
	"net/http.StatusText": true, "net/http.CanonicalHeaderKey": true, "net/http.ParseHTTPVersion": true,
	"net/http.ParseTime": true, "net/http.DetectContentType": true,
}

// pureTypes are types of ioPkgs whose methods do no I/O.
var pureTypes = map[string]bool{
	"net.IP": true, "net.IPMask": true, "net.IPNet": true, "net.HardwareAddr": true,
	"net/http.Header": true, "net/http.Cookie": true,
}

// checkCall reports calls that do I/O.
func (c *checker) checkCall(call *ast.CallExpr, orch string) {
	fn, ok := typeutil.Callee(c.pass.TypesInfo, call).(*types.Func)
	if !ok || fn.Pkg() == nil || !ioPkgs[fn.Pkg().Path()] {
		return
	}
	path := fn.Pkg().Path()
	name := path + "." + fn.Name()
	if recv := fn.Signature().Recv(); recv != nil {
		t := recv.Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if named, ok := types.Unalias(t).(*types.Named); ok {
			if pureTypes[path+"."+named.Obj().Name()] {
				return
			}
			name = fmt.Sprintf("(%s.%s).%s", path, named.Obj().Name(), fn.Name())
		}
	} else if pureFuncs[name] {
		return
	}
	c.pass.Reportf(call.Pos(), "call of %s in orchestrator %s does I/O, which is not replayed: "+
		"do it in an activity and call that with workflow.CallActivity", name, orch)
}
