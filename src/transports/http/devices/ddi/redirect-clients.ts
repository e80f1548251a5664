/**
 * DDI clients known to follow a `302` on the artifact download, by the User-Agent each sends. `--s3-redirect`
 * sends only these to a presigned object-store URL; any other client (Zephyr's hawkBit client, whose HTTP client
 * has no redirect support, or an unknown one) is streamed as before.
 * - SWUpdate's suricatta: `libcurl-agent/1.0` (corelib/channel_curl.c sets CURLOPT_USERAGENT, and
 *   CURLOPT_FOLLOWLOCATION unless `nofollow`, which the hawkBit module leaves off);
 * - rauc-hawkbit-updater: `rauc-hawkbit-c-agent/1.0` (HAWKBIT_USERAGENT; its download sets
 *   CURLOPT_FOLLOWLOCATION).
 * Both are libcurl clients, which drop the `Authorization` header (the TargetToken) on the way to another host,
 * as a presigned URL requires.
 */
const FOLLOWERS = ['libcurl-agent/', 'rauc-hawkbit-c-agent/'];

export function followsRedirects(userAgent: string | undefined): boolean {
  return userAgent !== undefined && FOLLOWERS.some((prefix) => userAgent.startsWith(prefix));
}
