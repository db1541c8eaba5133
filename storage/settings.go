package storage

import (
	"context"
	"errors"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Setting returns the value stored under key; ok is false when the key has never been set.
func (db *DB) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	var row settingRow
	err = db.read.WithContext(ctx).Where("key = ?", key).Take(&row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return "", false, nil
	case err != nil:
		return "", false, wrap(err, "setting %q", key)
	}
	return row.Value, true, nil
}

// SetSetting stores value under key, replacing any previous value.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	err := db.writing(ctx, func(w *gorm.DB) error {
		return w.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "key"}},
			DoUpdates: clause.AssignmentColumns([]string{"value"}),
		}).Create(&settingRow{Key: key, Value: value}).Error
	})
	return wrap(err, "set setting %q", key)
}
