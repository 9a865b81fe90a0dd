package httpapi

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/endurehq/endure/pkg/client"
	"github.com/endurehq/endure/pkg/protocol"
)

// maxStartWait bounds the timeout a start may wait for completion.
const maxStartWait = 10 * time.Minute

// start starts an instance and answers the check-status body. With a
// timeout (seconds) it first waits that long for the instance to finish: a
// Completed instance answers 200 with its output as it is; an instance that
// failed or was terminated answers 200 with its status object (500 for
// Failed with returnInternalServerErrorOnFailure=true). pollingInterval is
// accepted for compatibility; Endure hears of completion as it happens.
func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	p := params{q: r.URL.Query()}
	timeout := p.seconds("timeout")
	p.seconds("pollingInterval")
	failOn500 := p.bool("returnInternalServerErrorOnFailure", false)
	if p.err != nil {
		writeError(w, http.StatusBadRequest, p.err.Error())
		return
	}
	input, ok := readJSON(w, r)
	if !ok {
		return
	}
	opts := []client.StartOption{}
	if input != nil {
		opts = append(opts, client.WithInput(input))
	}
	if id := r.PathValue("instanceId"); id != "" {
		opts = append(opts, client.WithInstanceID(id))
	}
	id, err := s.c.Start(r.Context(), r.PathValue("functionName"), opts...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if timeout > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), min(timeout, maxStartWait))
		st, err := s.c.WaitForCompletion(ctx, id)
		cancel()
		switch {
		case err == nil && st.RuntimeStatus == protocol.StatusCompleted:
			writeJSON(w, http.StatusOK, orNull(st.Output))
			return
		case err == nil:
			code := http.StatusOK
			if failOn500 && st.RuntimeStatus == protocol.StatusFailed {
				code = http.StatusInternalServerError
			}
			writeJSON(w, code, RenderStatus(st, true))
			return
		case !errors.Is(err, context.DeadlineExceeded):
			s.fail(w, r, err)
			return
		}
	}
	s.writeCheckStatus(w, r, id)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	p := params{q: r.URL.Query()}
	showInput := p.bool("showInput", true)
	showHistory := p.bool("showHistory", false)
	showHistoryOutput := p.bool("showHistoryOutput", false)
	failOn500 := p.bool("returnInternalServerErrorOnFailure", false)
	if p.err != nil {
		writeError(w, http.StatusBadRequest, p.err.Error())
		return
	}
	id := r.PathValue("instanceId")
	st, err := s.c.Status(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := RenderStatus(st, showInput)
	if showHistory {
		events, err := s.c.History(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h := RenderHistory(events, showInput, showHistoryOutput)
		body.HistoryEvents = &h
	}
	code := http.StatusOK
	switch st.RuntimeStatus {
	case protocol.StatusPending, protocol.StatusRunning, protocol.StatusContinuedAsNew, protocol.StatusSuspended:
		code = http.StatusAccepted
		w.Header().Set("Location", baseURL(r)+r.URL.RequestURI())
		w.Header().Set("Retry-After", "5")
	case protocol.StatusFailed:
		if failOn500 {
			code = http.StatusInternalServerError
		}
	}
	writeJSON(w, code, body)
}

func (s *Server) raiseEvent(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusBadRequest, "Content-Type must be application/json")
		return
	}
	data, ok := readJSON(w, r)
	if !ok {
		return
	}
	s.accepted(w, r, s.c.RaiseEvent(r.Context(), r.PathValue("instanceId"), r.PathValue("eventName"), data))
}

func (s *Server) terminate(w http.ResponseWriter, r *http.Request) {
	p := params{q: r.URL.Query()}
	recursive := p.bool("recursive", false)
	if p.err != nil {
		writeError(w, http.StatusBadRequest, p.err.Error())
		return
	}
	id, reason := r.PathValue("instanceId"), r.URL.Query().Get("reason")
	if recursive {
		s.accepted(w, r, s.c.TerminateRecursive(r.Context(), id, reason))
		return
	}
	s.accepted(w, r, s.c.Terminate(r.Context(), id, reason))
}

func (s *Server) suspend(w http.ResponseWriter, r *http.Request) {
	s.accepted(w, r, s.c.Suspend(r.Context(), r.PathValue("instanceId"), r.URL.Query().Get("reason")))
}

func (s *Server) resume(w http.ResponseWriter, r *http.Request) {
	s.accepted(w, r, s.c.Resume(r.Context(), r.PathValue("instanceId"), r.URL.Query().Get("reason")))
}

func (s *Server) rewind(w http.ResponseWriter, r *http.Request) {
	s.accepted(w, r, s.c.Rewind(r.Context(), r.PathValue("instanceId"), r.URL.Query().Get("reason")))
}

// accepted answers 202 with no body, or the error.
func (s *Server) accepted(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) restart(w http.ResponseWriter, r *http.Request) {
	p := params{q: r.URL.Query()}
	newID := p.bool("restartWithNewInstanceId", true)
	if p.err != nil {
		writeError(w, http.StatusBadRequest, p.err.Error())
		return
	}
	id, err := s.c.Restart(r.Context(), r.PathValue("instanceId"), newID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeCheckStatus(w, r, id)
}

// purgeResult answers a purge.
type purgeResult struct {
	InstancesDeleted int `json:"instancesDeleted"`
}

func (s *Server) purge(w http.ResponseWriter, r *http.Request) {
	p := params{q: r.URL.Query()}
	recursive := p.bool("recursive", false)
	if p.err != nil {
		writeError(w, http.StatusBadRequest, p.err.Error())
		return
	}
	n, err := 1, error(nil)
	if recursive {
		n, err = s.c.PurgeRecursive(r.Context(), r.PathValue("instanceId"))
	} else {
		err = s.c.Purge(r.Context(), r.PathValue("instanceId"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, purgeResult{InstancesDeleted: n})
}
