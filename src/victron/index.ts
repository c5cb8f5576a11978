/** The Victron layer: transfers -> CBOR messages -> decoded records. */
export { VictronDecoder, type VictronRecord, type VictronDecoderOptions, type UnansweredRequest, type SessionProfile } from './decode.js';
export { TransferReassembler, type Piece, type PieceRange, type StreamOutput, type StreamSink, type Provenance } from './stream.js';
export { parseMessage, OPCODES, qUncompress, type VictronMessageBody, type ParseResult } from './message.js';
export { readItem, type CborItem, type ReadResult } from './cbor.js';
export { decodeControl, CONTROL_OPCODES, type ControlInfo } from './control.js';
