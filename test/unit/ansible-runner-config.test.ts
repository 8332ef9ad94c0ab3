import { describe, expect, it } from 'vitest';
import { createAnsibleRunner } from '../../adapters/ansible-runner/create.js';
import { loadConfig } from '../../config.js';

describe('Ansible runner configuration', () => {
  it('runs playbooks locally by default, in workspaces under the data directory', () => {
    expect(loadConfig({ INFRAAI_DATA_DIR: '/var/lib/infraai' }).ansibleRunner).toEqual({
      kind: 'local',
      workspaceDir: '/var/lib/infraai/ansible-runs',
      ansibleRunnerPath: '/usr/bin/ansible-runner',
    });
    expect(createAnsibleRunner(loadConfig({}).ansibleRunner).kind).toBe('local');
  });

  it('runs them on ECS with INFRAAI_ANSIBLE_RUNNER=ecs, naming every missing setting', () => {
    expect(() => loadConfig({ INFRAAI_ANSIBLE_RUNNER: 'ecs', INFRAAI_ECS_CLUSTER: 'c' })).toThrow(
      /INFRAAI_ANSIBLE_RUNNER=ecs needs INFRAAI_ECS_TASK_DEFINITION, INFRAAI_ECS_SUBNETS, INFRAAI_ECS_ARTIFACT_BUCKET, INFRAAI_ECS_LOG_GROUP/,
    );
    const config = loadConfig({
      INFRAAI_ANSIBLE_RUNNER: 'ecs',
      INFRAAI_ECS_CLUSTER: 'infraai',
      INFRAAI_ECS_TASK_DEFINITION: 'infraai-ansible-runner:3',
      INFRAAI_ECS_SUBNETS: 'subnet-a, subnet-b',
      INFRAAI_ECS_SECURITY_GROUPS: 'sg-1',
      INFRAAI_ECS_ARTIFACT_BUCKET: 'runs',
      INFRAAI_ECS_LOG_GROUP: '/infraai/ansible-runner',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
    }).ansibleRunner;
    expect(config).toEqual({
      kind: 'ecs',
      cluster: 'infraai',
      taskDefinition: 'infraai-ansible-runner:3',
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: ['sg-1'],
      assignPublicIp: false,
      containerName: 'ansible-runner',
      artifactBucket: 'runs',
      logGroup: '/infraai/ansible-runner',
      logStreamPrefix: 'ansible-runner',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:5000',
      pollMs: 5000,
    });
    expect(createAnsibleRunner(config).kind).toBe('ecs');
    expect(() => loadConfig({ INFRAAI_ANSIBLE_RUNNER: 'docker' })).toThrow(/INFRAAI_ANSIBLE_RUNNER/);
  });
});
