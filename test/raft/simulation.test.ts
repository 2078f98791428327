// 2,800 seeded simulation runs (about 25 s); STRATA_RAFT_SIM_RUNS scales them up for a soak,
// STRATA_RAFT_SIM_SEED replays one seed of every flavour.
import { test } from 'node:test';
import { Simulation, type SimConfig } from './sim/simulator.js';

const scale = Number(process.env['STRATA_RAFT_SIM_RUNS'] ?? '1');
const onlySeed = process.env['STRATA_RAFT_SIM_SEED'];

const flavours: { name: string; runs: number; config: Omit<SimConfig, 'seed'> }[] = [
  { name: '3 voters, plain', runs: 600, config: { voters: 3, steps: 400, preVote: false, checkQuorum: false, membership: false } },
  { name: '3 voters, pre-vote + check-quorum', runs: 600, config: { voters: 3, steps: 400, preVote: true, checkQuorum: true, membership: false } },
  { name: '5 voters, plain', runs: 400, config: { voters: 5, steps: 500, preVote: false, checkQuorum: false, membership: false } },
  { name: '5 voters, pre-vote + check-quorum', runs: 400, config: { voters: 5, steps: 500, preVote: true, checkQuorum: true, membership: false } },
  { name: '3 voters, membership changes', runs: 500, config: { voters: 3, steps: 500, preVote: true, checkQuorum: false, membership: true } },
  { name: '5 voters, membership changes + check-quorum', runs: 300, config: { voters: 5, steps: 500, preVote: false, checkQuorum: true, membership: true } },
];

for (const [f, flavour] of flavours.entries()) {
  test(`simulation: ${flavour.name}: safety after every step, liveness after healing`, () => {
    const seeds =
      onlySeed !== undefined
        ? [Number(onlySeed)]
        : Array.from({ length: Math.round(flavour.runs * scale) }, (_, i) => (f + 1) * 100_000 + i);
    for (const seed of seeds) new Simulation({ ...flavour.config, seed }).run();
  });
}
