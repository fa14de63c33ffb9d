// The simulated x86 machine: public API. See API.md in this directory.
export * from './types.js';
export { mkStep, stableStep, op, within, forever, times, Var, type Cell, type NotedStep } from './step.js';
// Shared footprints and texts (one object per location, label or name, made once): for model
// code that yields steps at every execution and restore, as the machine's own operations do.
export { readOf, writeOf, readsOf, writesOf, rmwOf, rmwAccesses, joinAccesses, textFor } from './step.js';
export { PhysMemory, type WordCell, type FrameRole, type FreedFrameWrite, memLoc, memPrefix, frameLoc, cacheLoc, ALLOC_LOC } from './memory.js';
export * from './pte.js';
export { PageTable, type Walk, type Lookup, type PgLevel } from './pagetable.js';
export { Tlb, type TlbEntry, type TlbState, encodeEntry, decodeEntry } from './tlb.js';
export { planWalk, describeEntry } from './walk.js';
export { Cpu, type AccessResult, type AccessKind, type PageFaultKind, type FaultRecord, type IrqFlags } from './cpu.js';
export { type FlushRequest, type IpiRequest, ipiActor } from './ipi.js';
export { type SpeculationOptions, speculationActors } from './speculation.js';
export * from './atomics.js';
export * from './locks.js';
export * from './page.js';
export { Machine, type MachineOptions, type MachineSnapshot, type MachineState, type TlbView } from './machine.js';
export { type Stateful, compose, programState, modelState, refill, sameList, reuseList } from './state.js';
// x86-TSO: store buffers (a machine option) and the memory operations a CPU issues on cells.
export { type MemoryModel, MEMORY_MODELS, StoreBuffer, type SbEntry, sbLoc, serialised, defaultMemoryModel, setDefaultMemoryModel } from './tso/store-buffer.js';
export * as tso from './tso/ops.js';
