// Package respond contains compromised identities: it runs response
// actions on Active Directory (over LDAPS, this package) and Entra ID
// (through Microsoft Graph, package connector/respond/entra) behind guard
// rails, and returns a schema.Action audit record for every request.
//
// Guard rails, in the order a Responder applies them:
//
//   - Dry run unless enforce is asked for explicitly: a dry run reads the
//     account's state and reports what would change (result "simulated").
//   - Protected accounts are refused (result "refused", dry runs too): the
//     built-in Administrator (RID 500), krbtgt (RID 502), domain
//     controllers (SERVER_TRUST_ACCOUNT, PARTIAL_SECRETS_ACCOUNT, primary
//     group 516/521 or under OU=Domain Controllers), members (direct or
//     nested) of the configured protected groups, and the configured
//     break-glass accounts under any of their names.
//   - A rate limit on enforced containment actions in any sliding hour,
//     global and per rule, kept in the Journal (a bbolt file shared by the
//     daemon and the CLI). Restoring actions and undos are exempt.
//   - Idempotence: asking for the state an account is already in succeeds
//     with "no change".
//   - Reversibility: every enforced change is journaled with its inverse
//     (Responder.Undo): disable ↔ enable, force ↔ cancel password change,
//     group removal → add back to the recorded groups, confirm compromised
//     → dismiss risk. A password reset and a session revocation cannot be
//     undone and their records say so.
//
// A reset password is generated from crypto/rand, sent only over LDAPS as
// unicodePwd, and never logged, printed or recorded.
package respond
