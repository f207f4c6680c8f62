// Package account is a bank account, written in hallgren/eventsourcing's
// documented style.
package account

import (
	"errors"

	"github.com/hallgren/eventsourcing"
	"github.com/hallgren/eventsourcing/aggregate"
)

// Account is the aggregate. Its ID is the random string that the library
// gives every new aggregate.
type Account struct {
	aggregate.Root
	Owner    string
	Currency string
	Balance  int64
	Tags     []string
	Closed   bool
}

// Opened is the first event of every account.
type Opened struct {
	Owner    string
	Currency string
}

// Deposited adds money; Balance is the balance after it.
type Deposited struct {
	Amount  int64
	Balance int64
}

// Withdrawn takes money out; Balance is the balance after it.
type Withdrawn struct {
	Amount  int64
	Balance int64
}

// Tagged replaces the account's tags.
type Tagged []string

// Closed closes the account.
type Closed struct{}

// Register registers the account's events with the library.
func (a *Account) Register(r aggregate.RegisterFunc) {
	r(&Opened{}, &Deposited{}, &Withdrawn{}, &Tagged{}, &Closed{})
}

// Transition applies one event to the account's state.
func (a *Account) Transition(event eventsourcing.Event) {
	switch e := event.Data().(type) {
	case *Opened:
		a.Owner, a.Currency = e.Owner, e.Currency
	case *Deposited:
		a.Balance = e.Balance
	case *Withdrawn:
		a.Balance = e.Balance
	case *Tagged:
		a.Tags = *e
	case *Closed:
		a.Closed = true
	}
}

// Open opens an account.
func Open(owner, currency string) (*Account, error) {
	if owner == "" {
		return nil, errors.New("owner can't be blank")
	}
	a := &Account{}
	aggregate.TrackChange(a, &Opened{Owner: owner, Currency: currency})
	return a, nil
}

// Deposit adds amount to the balance.
func (a *Account) Deposit(amount int64) error {
	if a.Closed {
		return errors.New("account is closed")
	}
	aggregate.TrackChange(a, &Deposited{Amount: amount, Balance: a.Balance + amount})
	return nil
}

// Withdraw takes amount from the balance.
func (a *Account) Withdraw(amount int64) error {
	if a.Closed || amount > a.Balance {
		return errors.New("cannot withdraw")
	}
	aggregate.TrackChange(a, &Withdrawn{Amount: amount, Balance: a.Balance - amount})
	return nil
}

// Tag replaces the account's tags.
func (a *Account) Tag(tags ...string) {
	t := Tagged(tags)
	aggregate.TrackChange(a, &t)
}

// Close closes the account.
func (a *Account) Close() {
	aggregate.TrackChange(a, &Closed{})
}
