import { useState } from 'preact/hooks';
import { get, post } from '../api';
import { ErrorMessage, Loading, Section } from '../components/Status';
import { formatTime } from '../format';
import { href, navigate } from '../router';
import type { Product } from '../types';
import { useAsync } from '../use-async';

/** Device families the adapters know; the field takes any text. */
const FAMILIES = ['esp8266', 'esp32', 'esp-at', 'riot', 'stm32', 'generic'];

export function Products() {
  const products = useAsync(() => get<{ items: Product[] }>('/products'), []);
  return (
    <>
      <h1>Products</h1>
      <ErrorMessage error={products.error} />
      {products.loading && !products.data && <Loading />}
      {products.data &&
        (products.data.items.length === 0 ? (
          <p class="muted">No product yet: create the first one below.</p>
        ) : (
          <div class="table-scroll card">
            <table>
              <caption class="visually-hidden">Products</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Device family</th>
                  <th scope="col">Description</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {products.data.items.map((p) => (
                  <tr key={p.name}>
                    <td data-label="Name">
                      <a href={href.product(p.name)}>{p.name}</a>
                    </td>
                    <td data-label="Device family">{p.deviceFamily}</td>
                    <td data-label="Description">{p.description}</td>
                    <td data-label="Created">{formatTime(p.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      <NewProduct />
    </>
  );
}

function NewProduct() {
  const [name, setName] = useState('');
  const [deviceFamily, setFamily] = useState('esp8266');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<Error>();

  async function submit(event: Event) {
    event.preventDefault();
    setError(undefined);
    try {
      const product = await post<Product>('/products', { name: name.trim(), deviceFamily, description });
      navigate(href.product(product.name));
    } catch (err) {
      setError(err as Error);
    }
  }

  return (
    <Section title="New product">
      <form class="form" onSubmit={submit}>
        <label>
          Name
          <input
            required
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            placeholder="thermostat"
          />
        </label>
        <label>
          Device family
          <input list="families" value={deviceFamily} onInput={(e) => setFamily(e.currentTarget.value)} />
          <datalist id="families">
            {FAMILIES.map((f) => (
              <option key={f} value={f} />
            ))}
          </datalist>
        </label>
        <label>
          Description
          <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <ErrorMessage error={error} />
        <button type="submit" class="primary">
          Create product
        </button>
      </form>
    </Section>
  );
}
