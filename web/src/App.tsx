import { useEffect, useState } from 'preact/hooks';
import { onUnauthorized, token } from './api';
import { href, useRoute, type Route } from './router';
import { SignIn } from './pages/SignIn';
import { Overview } from './pages/Overview';
import { Products } from './pages/Products';
import { Product } from './pages/Product';
import { Release } from './pages/Release';
import { Devices } from './pages/Devices';
import { Device } from './pages/Device';
import { PublishIds } from './pages/PublishIds';
import { Deployments } from './pages/Deployments';
import { Deployment } from './pages/Deployment';
import { Audit } from './pages/Audit';

const NAV: { label: string; to: string; pages: Route['page'][] }[] = [
  { label: 'Overview', to: href.overview(), pages: ['overview'] },
  { label: 'Products', to: href.products(), pages: ['products', 'product', 'release'] },
  { label: 'Devices', to: href.devices(), pages: ['devices', 'device'] },
  { label: 'Deployments', to: href.deployments(), pages: ['deployments', 'deployment'] },
  { label: 'RIOT publish ids', to: href.publishIds(), pages: ['publish-ids'] },
  { label: 'Audit log', to: href.audit(), pages: ['audit'] },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <Overview />;
    case 'products':
      return <Products />;
    case 'product':
      return <Product name={route.product} />;
    case 'release':
      return <Release product={route.product} version={route.version} />;
    case 'devices':
      return <Devices />;
    case 'device':
      return <Device id={route.id} />;
    case 'publish-ids':
      return <PublishIds />;
    case 'deployments':
      return <Deployments />;
    case 'deployment':
      return <Deployment id={route.id} />;
    case 'audit':
      return <Audit />;
    case 'not-found':
      return (
        <p>
          No such page. <a href={href.overview()}>Back to the overview</a>.
        </p>
      );
  }
}

export function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(() => token.get() !== null);
  useEffect(() => onUnauthorized(() => setSignedIn(false)), []);

  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;

  function signOut() {
    token.clear();
    setSignedIn(false);
  }

  return (
    <>
      {/* Focus is moved by hand: following `#main` would change the hash route. */}
      <a
        class="skip-link"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href.overview()}>
          Updraft
        </a>
        <nav aria-label="Main">
          {NAV.map((item) => (
            <a
              key={item.to}
              href={item.to}
              aria-current={item.pages.includes(route.page) ? 'page' : undefined}
            >
              {item.label}
            </a>
          ))}
        </nav>
        <button type="button" class="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}
