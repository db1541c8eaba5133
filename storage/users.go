package storage

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/nvr/nvr/device"
)

// CreateUser stores u and fills its ID and CreatedAt; a taken username yields device.ErrConflict.
func (db *DB) CreateUser(ctx context.Context, u *device.User) error {
	if u == nil {
		return errors.New("storage: create user: nil user")
	}
	row := &userRow{Username: u.Username, PasswordHash: u.PasswordHash, CreatedAt: db.now()}
	if err := db.writing(ctx, func(w *gorm.DB) error { return w.Create(row).Error }); err != nil {
		return wrap(err, "create user %q", u.Username)
	}
	u.ID, u.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// UserByName returns the user with exactly this username, or device.ErrNotFound.
func (db *DB) UserByName(ctx context.Context, name string) (*device.User, error) {
	var row userRow
	if err := db.read.WithContext(ctx).Where("username = ?", name).Take(&row).Error; err != nil {
		return nil, wrap(err, "user %q", name)
	}
	return row.toDomain(), nil
}

// CountUsers returns the number of users, so that start-up can tell whether to create the admin.
func (db *DB) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := db.read.WithContext(ctx).Model(&userRow{}).Count(&n).Error; err != nil {
		return 0, wrap(err, "count users")
	}
	return n, nil
}
