import { z } from 'zod';
import { resourceName, type ProvisionConventions } from '../conventions.js';
import type { ProvisionRequirements } from '../types.js';
import { attr, block, expr, map, type HclBlock } from './hcl-writer.js';

// What every template shares: the tags, the provider and its version constraints, the region
// variable, and the shape a template declares for its own output (checked after parsing).

export const AWS_PROVIDER_VERSION = '~> 5.70';
export const TERRAFORM_VERSION = '>= 1.5.0';

/** One template's output, before printing. */
export interface TemplateOutput {
  main: HclBlock[];
  variables: HclBlock[];
  outputs: HclBlock[];
}

/**
 * What the parsed `main.tf` of a template must hold: each resource type with the zod schema its
 * blocks' attributes must satisfy (extra attributes are allowed).
 */
export type TemplateSchema = ReadonlyArray<{ type: string; attributes: z.ZodType }>;

export interface ProvisionTemplate {
  render(requirements: ProvisionRequirements, conventions: ProvisionConventions): TemplateOutput;
  schema: TemplateSchema;
}

/** The tag map of a resource: the conventions' required tags, their fixed values, then the request's own. */
export function tagsFor(requirements: ProvisionRequirements, conventions: ProvisionConventions): Record<string, string> {
  const derived: Record<string, string | null> = {
    team: requirements.team ?? conventions.tags.defaultTeam,
    service: requirements.service ?? requirements.name,
    environment: requirements.environment,
    'managed-by': conventions.managedBy,
    name: resourceName(requirements, conventions),
  };
  const tags: Record<string, string> = {};
  for (const key of conventions.tags.required) {
    const value = key in derived ? derived[key] : (requirements.tags[key] ?? conventions.tags.values[key] ?? null);
    if (value) tags[key] = value;
  }
  for (const [key, value] of Object.entries(conventions.tags.values)) tags[key] ??= value;
  for (const key of Object.keys(requirements.tags).sort()) tags[key] ??= requirements.tags[key] ?? '';
  return tags;
}

export const tagsAttribute = (requirements: ProvisionRequirements, conventions: ProvisionConventions) =>
  attr('tags', map(tagsFor(requirements, conventions)));

export function versionsFile(): HclBlock[] {
  return [
    block(
      'terraform',
      [],
      [
        attr('required_version', TERRAFORM_VERSION),
        block('required_providers', [], [attr('aws', map({ source: 'hashicorp/aws', version: AWS_PROVIDER_VERSION }))]),
      ],
    ),
  ];
}

export const providerBlock = (): HclBlock => block('provider', ['aws'], [attr('region', expr('var.region'))]);

export function regionVariable(requirements: ProvisionRequirements): HclBlock {
  return block(
    'variable',
    ['region'],
    [attr('description', 'AWS region of the resources.'), attr('type', expr('string')), attr('default', requirements.region)],
  );
}

export function variable(name: string, type: string, description: string, defaultValue?: string | number | boolean | string[]): HclBlock {
  return block(
    'variable',
    [name],
    [attr('description', description), attr('type', expr(type)), defaultValue !== undefined && attr('default', defaultValue)],
  );
}

export const output = (name: string, value: string, description: string, sensitive = false): HclBlock =>
  block('output', [name], [attr('description', description), attr('value', expr(value)), sensitive && attr('sensitive', true)]);

/** Schemas for attributes the templates always write. */
export const tagMap = z.record(z.string(), z.string());
export const reference = z.string().regex(/^\$\{.+\}$/);
