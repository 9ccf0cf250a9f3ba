package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// GetCreditNote reads one credit note.
type GetCreditNote struct {
	Tenant       kernel.TenantID
	CreditNoteID creditnote.ID
}

// GetCreditNoteHandler handles GetCreditNote.
type GetCreditNoteHandler struct {
	notes CreditNotes
}

// Handle returns the credit note, or creditnote.ErrNotFound, or the
// repository's error.
func (h GetCreditNoteHandler) Handle(ctx context.Context, q GetCreditNote) (*creditnote.CreditNote, error) {
	return h.notes.Get(ctx, q.Tenant, q.CreditNoteID)
}
