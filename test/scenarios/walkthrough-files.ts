/**
 * The files of the seed walkthrough's gated import (consuming-public-content-walkthrough.md): its
 * gating `acr-task.yaml` verbatim, the test image's Dockerfile, and `test.sh` with the shebang a
 * container needs to run it as `./test.sh`.
 */
import { readFile } from 'node:fs/promises';

export const TEST_SH = `#!/bin/sh
if [ ""$(echo $BACKGROUND_COLOR | tr '[:lower:]' '[:upper:]') = 'RED' ]; then
    echo -e "\\e[31mERROR: Invalid Color:\\e[0m" \${BACKGROUND_COLOR}
    EXIT_CODE=1
else
  echo -e "\\e[32mValidation Complete - No Known Errors\\e[0m"
fi
exit \${EXIT_CODE}
`;

export const TEST_DOCKERFILE = `ARG REGISTRY_FROM_URL=
FROM \${REGISTRY_FROM_URL}node:15-alpine
WORKDIR /test
COPY ./test.sh .
CMD ./test.sh
`;

export function gatingTaskFile(): Promise<string> {
  return readFile(new URL('../tasks/taskfile/fixtures/gating-acr-task.yaml', import.meta.url), 'utf8');
}
