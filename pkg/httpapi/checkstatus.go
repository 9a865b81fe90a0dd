package httpapi

import (
	"net/http"
	"net/url"
)

// CheckStatus is the check-status body that answers a start: the instance
// ID and the URIs that manage it. {eventName} and {text} are placeholders
// for the caller to fill in. Each URI carries the access key, so a client
// can follow it as given.
type CheckStatus struct {
	ID                    string `json:"id"`
	StatusQueryGetURI     string `json:"statusQueryGetUri"`
	SendEventPostURI      string `json:"sendEventPostUri"`
	TerminatePostURI      string `json:"terminatePostUri"`
	RewindPostURI         string `json:"rewindPostUri"`
	PurgeHistoryDeleteURI string `json:"purgeHistoryDeleteUri"`
	RestartPostURI        string `json:"restartPostUri"`
	SuspendPostURI        string `json:"suspendPostUri"`
	ResumePostURI         string `json:"resumePostUri"`
}

// checkStatus builds the check-status body for an instance.
func (s *Server) checkStatus(r *http.Request, id string) CheckStatus {
	base := baseURL(r) + WebhookPrefix + "/instances/" + url.PathEscape(id)
	q := "taskHub=" + url.QueryEscape(s.c.Hub().Name()) + "&connection=" + url.QueryEscape(s.cfg.Connection)
	if s.cfg.Key != "" {
		q += "&code=" + url.QueryEscape(s.cfg.Key)
	}
	return CheckStatus{
		ID:                    id,
		StatusQueryGetURI:     base + "?" + q,
		SendEventPostURI:      base + "/raiseEvent/{eventName}?" + q,
		TerminatePostURI:      base + "/terminate?reason={text}&" + q,
		RewindPostURI:         base + "/rewind?reason={text}&" + q,
		PurgeHistoryDeleteURI: base + "?" + q,
		RestartPostURI:        base + "/restart?" + q,
		SuspendPostURI:        base + "/suspend?reason={text}&" + q,
		ResumePostURI:         base + "/resume?reason={text}&" + q,
	}
}

// writeCheckStatus answers 202 with the check-status body, pointing
// Location at the status URI.
func (s *Server) writeCheckStatus(w http.ResponseWriter, r *http.Request, id string) {
	body := s.checkStatus(r, id)
	w.Header().Set("Location", body.StatusQueryGetURI)
	w.Header().Set("Retry-After", "10")
	writeJSON(w, http.StatusAccepted, body)
}
