package http

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
)

// detachClient makes a client its ERP manages the office's own (admin).
func (s *Server) detachClient(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatch(r, false)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.commandOnID(w, r, func(ctx context.Context, id uuid.UUID) (commands.Result, error) {
		return s.commands.DetachClient.Handle(ctx, commands.DetachClient{Origin: origin(r), ClientID: id, ExpectedVersion: version})
	})
}
