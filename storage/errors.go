package storage

import (
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/nvr/nvr/device"
)

// wrap prefixes err with what was being done and turns gorm's sentinels into the domain ones,
// so callers test errors.Is(err, device.ErrNotFound) without knowing gorm.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("storage: %s: %w", what, device.ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("storage: %s: %w", what, device.ErrConflict)
	default:
		return fmt.Errorf("storage: %s: %w", what, err)
	}
}
