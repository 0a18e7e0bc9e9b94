// Lint rules, including the layering of design.md: each outside library is imported by exactly
// one layer, and lower layers never import higher ones.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const only = (names, message) => names.map((name) => ({ name, message }));
const layer = (files, paths, patterns = []) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
});

const sharp = only(['sharp'], 'only src/imaging imports sharp');
const ort = only(['onnxruntime-node'], 'only src/inference imports onnxruntime-node');
const store = only(['hnswlib-node', 'better-sqlite3'], 'only src/gallery imports hnswlib-node and better-sqlite3');
const web = only(['fastify', '@fastify/multipart', '@fastify/swagger', '@fastify/swagger-ui', 'fastify-type-provider-zod'], 'only src/http imports fastify');
const opencv = only(['@techstark/opencv-js'], 'only src/verification imports opencv-js');
const ours = [{ group: ['../*', '../../*'], message: 'config and core import nothing of ours' }];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'scratch/**', 'reports/**', 'bench-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', performance: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/server.ts', 'src/cli/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read settings from the Config object (src/config)' }],
    },
  },
  layer(['src/config/**', 'src/core/**'], [...sharp, ...ort, ...store, ...web, ...opencv], ours),
  layer(['src/imaging/**'], [...ort, ...store, ...web, ...opencv]),
  layer(['src/inference/**'], [...sharp, ...store, ...web, ...opencv]),
  layer(['src/models/**'], [...sharp, ...ort, ...store, ...web, ...opencv]),
  layer(['src/pipeline/**'], [...sharp, ...ort, ...store, ...web, ...opencv], [
    { group: ['../http/*', '../gallery/*', '../cli/*', '../bootstrap.js'], message: 'the pipeline knows nothing of HTTP or the store' },
  ]),
  layer(['src/gallery/**'], [...sharp, ...ort, ...web, ...opencv], [{ group: ['../http/*', '../pipeline/*'], message: 'the gallery is below the pipeline and HTTP' }]),
  layer(['src/http/**'], [...sharp, ...ort, ...store, ...opencv], [{ group: ['../bootstrap.js', '../../bootstrap.js'], message: 'http is given its dependencies' }]),
  layer(['src/cli/**'], [...sharp, ...ort, ...store, ...web, ...opencv]),
  // Local-feature verification: opencv-js, below the pipeline (which sees it only through interfaces).
  layer(['src/verification/**'], [...sharp, ...ort, ...store, ...web], [
    { group: ['../http/*', '../gallery/*', '../pipeline/*', '../cli/*', '../bootstrap.js'], message: 'verification implements pipeline ports without importing the pipeline' },
  ]),
);
