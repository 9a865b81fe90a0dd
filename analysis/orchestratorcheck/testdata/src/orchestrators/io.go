package orchestrators

import (
	"database/sql"
	"io/ioutil"
	"net"
	"net/http"
	"os"
	"os/exec"

	"github.com/endurehq/endure/workflow"
)

func DoesIO(ctx *workflow.Context, path string) (string, error) {
	b, err := os.ReadFile(path) // want `call of os.ReadFile in orchestrator DoesIO does I/O, which is not replayed: do it in an activity`
	if err != nil {
		return "", err
	}
	f, _ := os.Open(path)           // want `call of os.Open in orchestrator DoesIO`
	_, _ = f.Write(b)               // want `call of \(os.File\).Write in orchestrator DoesIO`
	_, _ = ioutil.ReadAll(f)        // want `call of io/ioutil.ReadAll in orchestrator DoesIO`
	_, _ = http.Get("http://x")     // want `call of net/http.Get in orchestrator DoesIO`
	_, _ = net.Dial("tcp", "x:1")   // want `call of net.Dial in orchestrator DoesIO`
	db, _ := sql.Open("driver", "") // want `call of database/sql.Open in orchestrator DoesIO`
	_, _ = db.Query("SELECT 1")     // want `call of \(database/sql.DB\).Query in orchestrator DoesIO`
	_ = exec.Command("ls").Run()    // want `call of os/exec.Command in orchestrator DoesIO` `call of \(os/exec.Cmd\).Run in orchestrator DoesIO`
	_ = os.Getenv("HOME")           // want `call of os.Getenv in orchestrator DoesIO`
	var c net.Conn
	_, _ = c.Read(b) // want `call of \(net.Conn\).Read in orchestrator DoesIO`
	return string(b), nil
}
