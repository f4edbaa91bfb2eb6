#!/usr/bin/env node
// Validate Backstage catalog entities with Backstage's own rules (@backstage/catalog-model).
//
//   node tests/support/backstage_validate.mjs FILE...    # each FILE: JSON (an entity or a list of them),
//                                                        # or YAML (one entity per document)
//   node tests/support/backstage_validate.mjs < x.json   # no FILE: JSON on stdin, shown as <stdin>
//
// Every entity goes through what the catalog backend applies when it ingests an entity:
//   1. the entity policies of the catalog's default set, in its order: SchemaValidEntityPolicy (the
//      envelope and metadata schema), DefaultNamespaceEntityPolicy, NoForeignRootFieldsEntityPolicy
//      (only apiVersion, kind, metadata, spec), FieldFormatEntityPolicy (name, namespace, label and
//      annotation keys, tags, link URLs and titles);
//   2. the kind validators of the built-in kinds (Component, API, System, Domain, Resource, Group,
//      User, Location): one of them must accept the entity (the catalog refuses an unknown kind), and
//      the one that knows the kind rejects a spec that breaks its schema (e.g. a Component without
//      spec.owner);
//   3. for a Component, its entity references (spec.owner, spec.system, spec.subcomponentOf,
//      spec.providesApis, spec.consumesApis, spec.dependsOn) must parse with parseEntityRef, as the
//      catalog does when it emits relations, name a well-formed kind, namespace and name, and
//      spec.owner must name a Group or a User (the kinds the Component model allows for the owner).
//
// Prints one line per problem, `<file>[#<index>]: <kind>:<namespace>/<name>: <message>`, on stdout, and
// exits 1 when there is any problem (also an unreadable or unparsable file), else 0.
// YAML needs the `yaml` package to be resolvable; JSON needs nothing beyond @backstage/catalog-model.

import { readFileSync } from 'node:fs';
import {
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  KubernetesValidatorFunctions,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  parseEntityRef,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';

const policy = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
]);

const kindValidators = [
  componentEntityV1alpha1Validator,
  apiEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
];

// field -> [default kind, allowed kinds (lower case) or null for any]
const componentRefs = {
  owner: ['Group', ['group', 'user']],
  system: ['System', null],
  subcomponentOf: ['Component', null],
  providesApis: ['API', null],
  consumesApis: ['API', null],
  dependsOn: [undefined, null],
};

function message(error) {
  return String(error?.message ?? error).replace(/\s+/g, ' ').trim();
}

function describe(entity) {
  const kind = typeof entity?.kind === 'string' ? entity.kind : '?';
  const metadata = entity?.metadata && typeof entity.metadata === 'object' ? entity.metadata : {};
  const namespace = typeof metadata.namespace === 'string' && metadata.namespace ? metadata.namespace : 'default';
  const name = typeof metadata.name === 'string' ? metadata.name : '?';
  return `${kind}:${namespace}/${name}`;
}

function referenceProblems(entity) {
  if (entity.kind !== 'Component') {
    return [];
  }
  const problems = [];
  const spec = entity.spec ?? {};
  for (const [field, [defaultKind, allowedKinds]] of Object.entries(componentRefs)) {
    const values = spec[field] === undefined ? [] : [].concat(spec[field]);
    for (const value of values) {
      let ref;
      try {
        ref = parseEntityRef(value, { defaultKind, defaultNamespace: entity.metadata.namespace });
      } catch (error) {
        problems.push(`spec.${field}: ${message(error)}`);
        continue;
      }
      if (!KubernetesValidatorFunctions.isValidKind(ref.kind)) {
        problems.push(`spec.${field}: "${value}" has an invalid kind "${ref.kind}"`);
      }
      if (!KubernetesValidatorFunctions.isValidNamespace(ref.namespace)) {
        problems.push(`spec.${field}: "${value}" has an invalid namespace "${ref.namespace}"`);
      }
      if (!KubernetesValidatorFunctions.isValidObjectName(ref.name)) {
        problems.push(`spec.${field}: "${value}" has an invalid name "${ref.name}"`);
      }
      if (allowedKinds && !allowedKinds.includes(ref.kind.toLowerCase())) {
        problems.push(`spec.${field}: "${value}" must refer to one of the kinds ${allowedKinds.join(', ')}`);
      }
    }
  }
  return problems;
}

async function entityProblems(entity) {
  if (entity === null || typeof entity !== 'object' || Array.isArray(entity)) {
    return [`an entity must be an object, not ${Array.isArray(entity) ? 'a list' : JSON.stringify(entity)}`];
  }
  let enforced;
  try {
    enforced = await policy.enforce(entity);
  } catch (error) {
    return [message(error)];
  }
  let known = false;
  for (const validator of kindValidators) {
    try {
      if (await validator.check(enforced)) {
        known = true;
        break;
      }
    } catch (error) {
      return [message(error)];
    }
  }
  if (!known) {
    return [`unsupported kind ${enforced.kind} of apiVersion ${enforced.apiVersion} (no built-in kind validator accepts it)`];
  }
  return referenceProblems(enforced);
}

async function documents(name, text) {
  const trimmed = text.trim();
  if (name === '<stdin>' || name.endsWith('.json') || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const data = JSON.parse(text);
    return Array.isArray(data) ? data : [data];
  }
  let yaml;
  try {
    yaml = await import('yaml');
  } catch {
    throw new Error('reading YAML needs the npm package "yaml"; pass the entities as JSON instead');
  }
  return yaml
    .parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length) {
        throw new Error(doc.errors.map(message).join('; '));
      }
      return doc.toJS();
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

async function main(argv) {
  const inputs = argv.length ? argv : ['<stdin>'];
  let failed = false;
  let checked = 0;
  for (const name of inputs) {
    let entities;
    try {
      entities = await documents(name, readFileSync(name === '<stdin>' ? 0 : name, 'utf8'));
    } catch (error) {
      console.log(`${name}: ${message(error)}`);
      failed = true;
      continue;
    }
    if (!entities.length) {
      console.log(`${name}: no entity found`);
      failed = true;
    }
    for (const [index, entity] of entities.entries()) {
      const where = entities.length > 1 ? `${name}#${index}` : name;
      checked += 1;
      for (const problem of await entityProblems(entity)) {
        console.log(`${where}: ${describe(entity)}: ${problem}`);
        failed = true;
      }
    }
  }
  console.error(`${checked} entit${checked === 1 ? 'y' : 'ies'} checked: ${failed ? 'invalid' : 'valid'}`);
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
