// The one policy for tests that need something a machine may lack (a Docker engine, `ip netns`, tshark,
// browsers, kubectl, the benchmark's wrk and nginx): skip with the reason, unless
// TLSECHO_REQUIRE_<WHAT>=1 (as CI sets), where the test file fails instead, so a CI machine that
// lost a tool cannot pass by skipping.

/** TOOLS: the command-line clients and toolchains scripts/test.sh installs (openssl, curl, go, a JDK). */
export type Requirement = 'DOCKER' | 'NETNS' | 'BROWSERS' | 'KUBECTL' | 'BENCH' | 'TSHARK' | 'TOOLS';

/** The `skip` option for node:test: false when `missing` is undefined, else its reason. */
export function skipUnless(requirement: Requirement, missing: string | undefined): false | string {
  if (missing === undefined) return false;
  const variable = `TLSECHO_REQUIRE_${requirement}`;
  if (process.env[variable] === '1') throw new Error(`${variable}=1 but ${missing}`);
  return missing;
}
