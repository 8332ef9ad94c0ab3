import { EcsAnsibleRunner } from './ecs.js';
import { LocalAnsibleRunner } from './local.js';
import type { AnsibleRunner } from './port.js';

// Picks the Ansible runner from config (INFRAAI_ANSIBLE_RUNNER): the embedded local runner, or
// ECS Fargate in production. The composition root imports this file, never an implementation.

export type AnsibleRunnerConfig =
  | {
      kind: 'local';
      /** Workspaces, one per run key (0700). */
      workspaceDir: string;
      ansibleRunnerPath: string;
    }
  | {
      kind: 'ecs';
      cluster: string;
      taskDefinition: string;
      subnets: string[];
      securityGroups: string[];
      assignPublicIp: boolean;
      containerName: string;
      artifactBucket: string;
      logGroup: string;
      logStreamPrefix: string;
      /** Null: the SDK's own resolution (AWS_REGION, the profile). */
      region: string | null;
      /** An AWS-compatible endpoint (tests); null: AWS. */
      endpoint: string | null;
      pollMs: number;
    };

export function createAnsibleRunner(config: AnsibleRunnerConfig): AnsibleRunner {
  switch (config.kind) {
    case 'local':
      return new LocalAnsibleRunner({ baseDir: config.workspaceDir, ansibleRunnerPath: config.ansibleRunnerPath });
    case 'ecs':
      return new EcsAnsibleRunner(config);
  }
}
