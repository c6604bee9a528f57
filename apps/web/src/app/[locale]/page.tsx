import { Studio } from '../../components/Studio.tsx';

export default function StudioPage() {
  return <Studio />;
}
