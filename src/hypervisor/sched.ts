// Scheduling weights, as Xen's credit scheduler has them (xl.cfg cpu_weight=, 1..65535, default
// 256), mapped onto what the host kernel schedules: each vCPU is a thread, so a weight becomes
// the thread's nice value.
//
// dom0 runs at nice 0 and a guest of default weight at GUEST_NICE, about ten times less CPU
// under contention. This matters more than anything else once guests outnumber cores: dom0's
// thread runs every backend, and a guest it wakes must not preempt it (on 2 cores, 32 guests
// at dom0's own priority cut aggregate block IOPS by half or more; docs/PERFORMANCE.md).
// Linux gives each nice step about 1.25 times the weight of the next, so doubling cpu_weight
// is about three steps.

export const CREDIT_DEFAULT_WEIGHT = 256;
export const CREDIT_MIN_WEIGHT = 1;
export const CREDIT_MAX_WEIGHT = 65535;
/** The nice value of a guest of default weight. */
export const GUEST_NICE = 10;
/**
 * How long a migrated guest's thread keeps the host's priority after its kernel is handed
 * (the resume, then the program's first answers), as Xen's credit scheduler boosts a vCPU that
 * wakes: at a guest's weight on a busy host each of those steps waited for a core (mig13 traced
 * 32 ms with nothing run on the thread between the frame that ended the client's wait and its
 * answers). dom0 lowers the thread when it runs out, so a program that spins keeps it no longer.
 */
export const RESUME_BOOST_MS = 100;
const NICE_MIN = 0;
const NICE_MAX = 19;

/** The nice value for a guest's vCPU thread of credit weight `weight`. */
export function niceForWeight(weight: number): number {
  const steps = Math.round(Math.log(weight / CREDIT_DEFAULT_WEIGHT) / Math.log(1.25));
  return Math.min(NICE_MAX, Math.max(NICE_MIN, GUEST_NICE - steps));
}
