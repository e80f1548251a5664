import { Fragment } from 'preact';
import { get } from '../api';
import { ErrorMessage, Loading, Section } from '../components/Status';
import { DeviceTags } from '../components/DeviceTags';
import { formatTime } from '../format';
import { href } from '../router';
import type { Device as DeviceInfo, DeviceEvent } from '../types';
import { useAsync } from '../use-async';

export function Device({ id }: { id: string }) {
  const device = useAsync(
    () => get<DeviceInfo & { history: DeviceEvent[] }>(`/devices/${encodeURIComponent(id)}`),
    [id],
  );
  const d = device.data;
  const facts: [string, string | null][] = d
    ? [
        ['Product', d.product],
        ['Version', d.version],
        ['Protocol', d.protocol],
        ['Address', d.address],
        ['User agent', d.userAgent],
        ['First seen', formatTime(d.firstSeen)],
        ['Last seen', formatTime(d.lastSeen)],
        ['Last update', formatTime(d.lastUpdate)],
        ['Last offered', d.lastOffered],
        ['Outcome', d.lastOutcome],
        ['Pinned to', d.pinnedVersion],
        ...Object.entries(d.attributes),
      ]
    : [];
  return (
    <>
      <p class="crumbs">
        <a href={href.devices()}>Devices</a> /
      </p>
      <h1 class="break">{id}</h1>
      <ErrorMessage error={device.error} />
      {device.loading && !d && <Loading />}
      {d && (
        <>
          <dl class="facts">
            {facts.map(([label, value]) => (
              <Fragment key={label}>
                <dt>{label}</dt>
                <dd>{value ?? '—'}</dd>
              </Fragment>
            ))}
          </dl>
          <DeviceTags id={id} />
          <Section title="History">
            {d.history.length === 0 ? (
              <p class="muted">No event recorded.</p>
            ) : (
              <div class="table-scroll">
                <table data-testid="history">
                  <caption class="visually-hidden">Check-ins and updates, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Event</th>
                      <th scope="col">Version</th>
                      <th scope="col">Detail</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.history.map((e, i) => (
                      <tr key={`${e.at}-${i}`}>
                        <td data-label="When">{formatTime(e.at)}</td>
                        <td data-label="Event">{e.kind}</td>
                        <td data-label="Version">{e.version ?? '—'}</td>
                        <td data-label="Detail">{e.detail ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Section>
        </>
      )}
    </>
  );
}
