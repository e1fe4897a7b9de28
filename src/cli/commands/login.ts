/** `berth login -n <registry>`: a registry refresh token for docker, podman, buildah and skopeo, as `az acr login`. */
import type { Command } from 'commander';
import { containersAuthPath, dockerConfigPath, writeContainersAuth, writeDockerAuth } from '../auth-files.ts';
import { REFRESH_TOKEN_USERNAME } from '../client.ts';
import { examples, handler } from '../context.ts';

export function registerLoginCommand(program: Command): void {
  examples(
    program
      .command('login')
      .description("log docker and podman/buildah/skopeo in to a registry with your Berth credential's refresh token")
      .option('-n, --name <registry>', 'registry name (default: the configured registry)')
      .option('-t, --expose-token', 'print the token and login server instead of writing the auth files')
      .action(
        handler<{ name?: string; exposeToken?: boolean }>(async (options, context) => {
          const { loginServer, refreshToken } = await context.client.exchangeRefreshToken(context.registry(options.name));
          if (options.exposeToken) {
            context.print({ accessToken: refreshToken, loginServer });
            return;
          }
          await writeDockerAuth(dockerConfigPath(), loginServer, REFRESH_TOKEN_USERNAME, refreshToken);
          await writeContainersAuth(containersAuthPath(), loginServer, REFRESH_TOKEN_USERNAME, refreshToken);
          process.stdout.write('Login Succeeded\n');
        }),
      ),
    [
      ['Log in to a registry for docker and podman.', 'berth login -n contoso'],
      [
        'Get a token for another tool.',
        'berth login -n contoso --expose-token --query accessToken -o tsv | skopeo login -u 00000000-0000-0000-0000-000000000000 --password-stdin contoso.localhost:5000',
      ],
    ],
  );
}
