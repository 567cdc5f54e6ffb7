// Package smb dissects SMB2/3 over TCP 445 and 139 (MS-SMB2) far enough
// for the network sensor's identity detections:
//
//   - SESSION_SETUP: NTLMSSP authentication (ntlm_auth events, via
//     ntlm.SessionSetups), which also names each session's user;
//   - TREE_CONNECT: which trees are IPC$;
//   - CREATE on IPC$: named pipes opened (srvsvc, samr, lsarpc, netlogon,
//     efsrpc, spoolss, drsuapi, …), by FileId;
//   - WRITE and READ on a pipe, and IOCTL FSCTL_PIPE_TRANSCEIVE: the
//     DCE/RPC PDUs the pipe carries, handed to a dcerpc.Stream per pipe, so
//     every RPC call becomes an rpc_call event with rpc.transport "smb",
//     rpc.pipe and the session's user;
//   - CLOSE: the pipe's stream ends (unanswered calls are emitted).
//
// SMB3 encrypted messages (transform header 0xFD 'SMB') cannot be read:
// they are counted as Encrypted once per connection. Signing does not hide
// anything. SMB1 is only recognized (negotiation), not dissected.
//
// Memory is bounded: an NBSS record is held up to MaxMessage bytes (larger
// READ/WRITE records are skipped and counted as dropped bytes), and the
// trees, pipes and outstanding requests tracked per connection are capped.
package smb
