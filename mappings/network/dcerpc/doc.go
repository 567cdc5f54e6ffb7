// Package dcerpc dissects connection-oriented DCE/RPC (C706 chapter 12 with
// the MS-RPCE extensions) into rpc_call events: which interface a client
// bound (by UUID and version, per presentation context) and which
// operation (opnum) each request called, named from the protocol
// specifications (MS-DRSR, MS-SAMR, MS-LSAD/LSAT, MS-SRVS, MS-WKST, MS-EFSR,
// MS-RPRN, MS-PAR, MS-NRPC, MS-DNSP, MS-DFSNM, MS-FSRVP, MS-BKRP, MS-RRP,
// MS-SCMR, MS-TSCH, MS-DSSP, MS-DCOM activation, MS-WMI, the endpoint
// mapper).
//
// A Stream follows one association: a TCP connection (the Dissector, on
// port 135 and on any port whose first bytes are a bind PDU, see Sniff) or
// one SMB2 named pipe (package smb feeds the pipe's WRITE, READ and
// FSCTL_PIPE_TRANSCEIVE payloads). It tracks bind and alter_context
// (context id → interface), bind_ack rejections, request fragments (one
// event per call, counted fragments) and the answer: a response PDU makes
// the call's outcome success, a fault PDU failure with rpc.status; calls
// still unanswered when the stream ends are emitted with outcome unknown.
//
// PDU headers, including the operation number, are never encrypted, so
// calls made with packet privacy are still named; only their stub data is
// opaque (nothing here reads stub data). NTLMSSP AUTHENTICATE tokens in
// bind, alter_context and auth3 verifiers name the calling user.
//
// Memory is bounded: a PDU is at most 64 KiB (frag_length is 16 bits), at
// most maxContexts presentation contexts and maxPending unanswered calls
// are remembered per stream.
package dcerpc
