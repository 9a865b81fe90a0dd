package orchestratorcheck_test

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/packages"

	"github.com/endurehq/endure/analysis/orchestratorcheck"
	"golang.org/x/tools/go/analysis/analysistest"
)

// TestAnalyzer checks testdata/src/orchestrators: flagged.go has one
// orchestrator per reported construct, each line marked with the report it
// must get; clean.go has a deterministic orchestrator, activities and plain
// functions, which must get none.
func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), orchestratorcheck.Analyzer, "orchestrators")
}

// TestRealSDK runs the pass against the real workflow package rather than
// the testdata stub: the sample workflows are deterministic, so nothing in
// them may be reported, and an orchestrator written against the real
// workflow.Context is recognised.
func TestRealSDK(t *testing.T) {
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo |
			packages.NeedImports | packages.NeedTypesSizes,
		Dir: "../..",
	}
	pkgs, err := packages.Load(cfg, "github.com/endurehq/endure/workflows")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || len(pkgs[0].Errors) > 0 {
		t.Fatalf("load workflows: %v", pkgs)
	}
	samples := pkgs[0]

	t.Run("samples are clean", func(t *testing.T) {
		diags := runPass(t, samples.Fset, samples.Syntax, samples.Types, samples.TypesInfo)
		for _, d := range diags {
			t.Errorf("%s: %s", samples.Fset.Position(d.Pos), d.Message)
		}
	})

	t.Run("real orchestrator is recognised", func(t *testing.T) {
		wf := samples.Imports["github.com/endurehq/endure/workflow"]
		if wf == nil {
			t.Fatal("workflows does not import workflow")
		}
		const src = `package p

import (
	"time"

	"github.com/endurehq/endure/workflow"
)

func Orch(ctx *workflow.Context, _ any) (string, error) { return time.Now().String(), nil }

func Plain(n int) string { return time.Now().String() }
`
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "p.go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		std := importer.ForCompiler(fset, "source", nil)
		conf := types.Config{Importer: importerFunc(func(path string) (*types.Package, error) {
			if path == wf.PkgPath {
				return wf.Types, nil
			}
			return std.Import(path)
		})}
		info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}, Defs: map[*ast.Ident]types.Object{}}
		pkg, err := conf.Check("p", fset, []*ast.File{f}, info)
		if err != nil {
			t.Fatal(err)
		}
		diags := runPass(t, fset, []*ast.File{f}, pkg, info)
		if len(diags) != 1 || !strings.Contains(diags[0].Message, "time.Now in orchestrator Orch") {
			t.Fatalf("diagnostics = %v, want one about time.Now in Orch", diags)
		}
	})
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// runPass runs the analyzer on one type-checked package.
func runPass(t *testing.T, fset *token.FileSet, files []*ast.File, pkg *types.Package, info *types.Info) []analysis.Diagnostic {
	t.Helper()
	var diags []analysis.Diagnostic
	pass := &analysis.Pass{
		Analyzer: orchestratorcheck.Analyzer, Fset: fset, Files: files, Pkg: pkg, TypesInfo: info,
		TypesSizes: types.SizesFor("gc", "amd64"), ResultOf: map[*analysis.Analyzer]any{},
		Report: func(d analysis.Diagnostic) { diags = append(diags, d) },
	}
	if _, err := orchestratorcheck.Analyzer.Run(pass); err != nil {
		t.Fatal(err)
	}
	return diags
}
