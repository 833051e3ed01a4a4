package commands

import (
	"context"

	"github.com/clientreg/clientreg/domain"
)

// DefineCustomField lets the tenant's clients carry one more field.
type DefineCustomField struct {
	Origin  domain.Origin
	Name    string
	Type    string
	Options []string
}

type DefineCustomFieldHandler struct{ store EventStore }

func (h DefineCustomFieldHandler) Handle(ctx context.Context, cmd DefineCustomField) (Result, error) {
	def, err := domain.NewCustomFieldDefinition(cmd.Name, cmd.Type, cmd.Options)
	if err != nil {
		return Result{}, err
	}
	// Defining a name is the same intent whatever else was defined
	// meanwhile, so a lost race is simply decided again.
	return retryOnConflict(ctx, func() (Result, error) {
		set, err := loadCustomFields(ctx, h.store, cmd.Origin.TenantID)
		if err != nil {
			return Result{}, err
		}
		if err := set.Define(def); err != nil {
			return Result{}, err
		}
		return save(ctx, h.store, cmd.Origin, set)
	})
}
